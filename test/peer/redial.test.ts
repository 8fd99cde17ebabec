/**
 * A conference call that fails to connect (ICE or DTLS) is called again: the web client gives up
 * on it for good, which for a recording bot meant losing that participant for the whole meeting.
 * Real werift peers on a Conference-type room of the in-memory hub; the failure is the peer
 * connection's own 'failed' state, raised on the connections a test picks.
 */
import type { RTCPeerConnection } from 'werift';
import { describe, expect, it } from 'vitest';
import { answerPolicy, type Call, type CallManager, type TokenConnection } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { until, useBots } from './util.js';

const bot = useBots();
const never = answerPolicy({ kind: 'never' }); // conference Offers bypass the answer policy
const room = 'conference/redial';

function connected(m: CallManager): string[] {
  return [...m.calls.values()].filter((c) => c.state.status === 'connected').map((c) => c.peerId);
}

/** An onPeerConnection hook that fails the first `count` peer connections once they start connecting. */
function failFirst(count: number): { hook: (pc: RTCPeerConnection, owner: Call | TokenConnection) => void; failed: () => number } {
  let made = 0;
  let failed = 0;
  return {
    hook: (pc) => {
      if (made++ >= count) return;
      const sub = pc.connectionStateChange.subscribe((state) => {
        if (state !== 'connecting') return;
        sub.unSubscribe();
        failed += 1;
        setImmediate(() => pc.connectionStateChange.execute('failed'));
      });
    },
    failed: () => failed,
  };
}

function conferenceOffers(hub: Hub): [string, string][] {
  return hub
    .sent('Offer')
    .filter((e) => e.frame.Offer.Offer._conference === `Conference:${room}`)
    .map((e) => [e.from, e.frame.Offer.To]);
}

describe('re-dialling failed conference calls', () => {
  it('the lower id fails its side: Bye failed, then it offers again and the call connects', async () => {
    const hub = new Hub();
    const sabotage = failFirst(1);
    const low = bot(hub, 'a-low', { answer: never, onPeerConnection: sabotage.hook, redial: { delayMs: 200 } });
    const high = bot(hub, 'b-high', { answer: never });
    hub.serverConference(room);
    await until(() => connected(low).length === 1 && connected(high).length === 1, 20_000, 'the second call connected');
    expect(sabotage.failed()).toBe(1);
    expect(hub.sent('Bye').map((e) => [e.from, e.frame.Bye.Bye.Reason])).toEqual([['a-low', 'failed']]);
    expect(conferenceOffers(hub)).toEqual([
      ['a-low', 'b-high'],
      ['a-low', 'b-high'],
    ]);
  });

  it('the higher id fails its side: the lower id offers again first and the higher one answers instead of offering', async () => {
    const hub = new Hub();
    const sabotage = failFirst(1);
    const low = bot(hub, 'a-low', { answer: never, redial: { delayMs: 200 } });
    const high = bot(hub, 'b-high', { answer: never, onPeerConnection: sabotage.hook, redial: { delayMs: 200 } });
    hub.serverConference(room);
    await until(() => connected(low).length === 1 && connected(high).length === 1, 20_000, 'the second call connected');
    await new Promise((r) => setTimeout(r, 600)); // past the higher id's own (later) re-dial time
    expect(hub.sent('Bye').map((e) => [e.from, e.frame.Bye.Bye.Reason])).toEqual([['b-high', 'failed']]);
    expect(conferenceOffers(hub)).toEqual([
      ['a-low', 'b-high'],
      ['a-low', 'b-high'],
    ]);
    expect(connected(low)).toEqual(['b-high']);
  });

  it('gives up after `attempts` new Offers', async () => {
    const hub = new Hub();
    const sabotage = failFirst(Infinity);
    const low = bot(hub, 'a-low', { answer: never, onPeerConnection: sabotage.hook, redial: { attempts: 2, delayMs: 100 } });
    bot(hub, 'b-high', { answer: never, redial: false });
    hub.serverConference(room);
    await until(() => sabotage.failed() === 3, 20_000, 'three failed set-ups');
    await new Promise((r) => setTimeout(r, 1000));
    expect(conferenceOffers(hub)).toHaveLength(3); // the first Offer and 2 re-dials
    expect(low.calls.size).toBe(0);
  });

  it('redial: false hangs up for good, like the web client', async () => {
    const hub = new Hub();
    const sabotage = failFirst(1);
    const low = bot(hub, 'a-low', { answer: never, onPeerConnection: sabotage.hook, redial: false });
    const high = bot(hub, 'b-high', { answer: never, redial: false });
    hub.serverConference(room);
    await until(() => sabotage.failed() === 1 && low.calls.size === 0 && high.calls.size === 0, 20_000, 'the failed call closed');
    await new Promise((r) => setTimeout(r, 1500));
    expect(conferenceOffers(hub)).toHaveLength(1);
  });

  it('a peer that left is not called again', async () => {
    const hub = new Hub();
    const sabotage = failFirst(1);
    const low = bot(hub, 'a-low', { answer: never, onPeerConnection: sabotage.hook, redial: { delayMs: 500 } });
    bot(hub, 'b-high', { answer: never, redial: false });
    hub.serverConference(room);
    await until(() => sabotage.failed() === 1 && low.calls.size === 0, 20_000, 'the failed call closed');
    hub.leave('b-high');
    await new Promise((r) => setTimeout(r, 1200));
    expect(conferenceOffers(hub)).toHaveLength(1);
  });

  it('a failed 1:1 call (no conference) is not called again', async () => {
    const hub = new Hub();
    const sabotage = failFirst(1);
    const caller = bot(hub, 'a-low', { onPeerConnection: sabotage.hook, redial: { delayMs: 100 } });
    bot(hub, 'b-high', { answer: answerPolicy({ kind: 'everyone' }) });
    const call = caller.call('b-high');
    expect((await call.closed()).reason).toBe('failed');
    await new Promise((r) => setTimeout(r, 800));
    expect(hub.sent('Offer')).toHaveLength(1);
  });
});
