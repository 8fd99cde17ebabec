import { describe, expect, it } from 'vitest';
import { CallManager, answerPolicy, type Call, type CallManagerOptions } from '../../src/peer/index.js';
import type { OutgoingFrame } from '../../src/protocol/index.js';
import { Hub } from './hub.js';
import { connectedCall, next, until, useBots } from './util.js';

const bot = useBots();

const everyone = answerPolicy({ kind: 'everyone' });

describe('calls (in-memory hub, real werift peers)', () => {
  it('offer → answer → connected, with the data channel and Talking round trip', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B', { answer: everyone });
    const { call, callee } = await connectedCall(a, b, 'B');
    expect(callee.direction).toBe('incoming');

    const offer = hub.sent('Offer')[0]!.frame.Offer;
    expect(offer.Type).toBe('Offer');
    expect(offer.Offer.type).toBe('offer');
    expect(offer.Offer.sdp).toContain('m=application');
    expect(offer.Offer.sdp).toContain('m=audio');
    for (const c of hub.sent('Candidate')) {
      expect(c.frame.Candidate.Candidate.type).toBe('candidate');
      expect(c.frame.Candidate.Candidate.candidate.startsWith('candidate:')).toBe(true);
      expect(typeof c.frame.Candidate.Candidate.sdpMLineIndex).toBe('number');
    }

    const talking = next(b.documents$, (d) => d.kind === 'Talking');
    call.sendTalking(true);
    const doc = await talking;
    expect(doc.from).toBe('A');
    expect(doc.doc).toEqual({ Type: 'Talking', Talking: true });

    const back = next(call.documents$, (d) => d.kind === 'Screenshare');
    callee.sendScreenshare('screenshare_B_0');
    expect((await back).doc).toEqual({ Id: 'B', Type: 'Screenshare', Screenshare: { id: 'screenshare_B_0' } });

    const chat = next(a.documents$, (d) => d.kind === 'Chat');
    const mid = callee.sendChat('hello over p2p');
    const got = await chat;
    expect(got.from).toBe('B');
    expect(got.doc).toMatchObject({ To: 'A', Type: 'Chat', Chat: { Mid: mid, Message: 'hello over p2p', NoEcho: true } });

    call.hangup();
    const closed = await callee.closed();
    expect(closed).toEqual({ status: 'closed', reason: 'hangup', by: 'remote' });
    expect(hub.sent('Bye').at(-1)!.frame.Bye.Bye).toEqual({});
    call.close(); // idempotent
  });

  it('data channel ignores binary, char-code-2 strings and junk; tolerates nulls in Chat', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B', { answer: everyone });
    const { call, callee } = await connectedCall(a, b, 'B');
    const got: string[] = [];
    callee.documents$.subscribe((d) => got.push(d.kind));
    const dc = call.dataChannel!;
    dc.send(Buffer.from([1, 2, 3]));
    dc.send('\u0002control');
    dc.send('{not json');
    dc.send(JSON.stringify({ Type: 'Unknown' }));
    dc.send(JSON.stringify({ To: 'B', Type: 'Chat', Chat: { Mid: null, Message: null, Status: { State: 'delivered', Mid: 'x' }, NoEcho: true } }));
    dc.send(JSON.stringify({ Type: 'Talking', Talking: false }));
    await until(() => got.length >= 2, 20_000, 'documents');
    expect(got).toEqual(['Chat', 'Talking']);
  });

  it('Bye busy and reject from the policy', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B', { answer: () => 'busy' });
    bot(hub, 'C', { answer: answerPolicy({ kind: 'allow', allow: ['someone-else'] }) });
    const busy = await a.call('B').closed();
    expect(busy).toEqual({ status: 'closed', reason: 'busy', by: 'remote' });
    const rejected = await a.call('C').closed();
    expect(rejected).toEqual({ status: 'closed', reason: 'reject', by: 'remote' });
  });

  it('pickup timeout: callee sends pickuptimeout; caller gives up with abort', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B', { pickupTimeoutMs: 300 }); // default handler: ring only
    expect(await a.call('B').closed()).toEqual({ status: 'closed', reason: 'pickuptimeout', by: 'remote' });

    const c = bot(hub, 'C', { ringTimeoutMs: 300 });
    const d = bot(hub, 'D', { pickupTimeoutMs: 60_000 });
    const ringing = next(d.calls$);
    const outgoing = c.call('D');
    const callee = await ringing;
    expect(callee.state).toEqual({ status: 'ringing', direction: 'incoming' });
    expect(await outgoing.closed()).toEqual({ status: 'closed', reason: 'pickuptimeout', by: 'local' });
    expect(await callee.closed()).toEqual({ status: 'closed', reason: 'abort', by: 'remote' });
  });

  it('abort while dialing, and answering a ringing call later by hand', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B');
    const ringing = next(b.calls$);
    const outgoing = a.call('B');
    const callee = await ringing;
    outgoing.hangup('abort');
    expect(await callee.closed()).toEqual({ status: 'closed', reason: 'abort', by: 'remote' });

    const ringing2 = next(b.calls$);
    const second = a.call('B');
    const callee2 = await ringing2;
    await callee2.accept();
    await second.waitFor('connected');
  });

  it('remote candidates that arrive before the remote description are buffered and used', async () => {
    const hub = new Hub();
    // Candidates only by trickle (strip them from SDPs) and Answers delayed, so the caller gets
    // the callee's candidates before the Answer.
    hub.intercept = (frame: OutgoingFrame) => {
      if (frame.Type === 'Offer' || frame.Type === 'Answer') {
        const inner = frame.Type === 'Offer' ? frame.Offer.Offer : frame.Answer.Answer;
        const sdp = inner.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate') && !l.startsWith('a=end-of-candidates')).join('\r\n');
        const copy = JSON.parse(JSON.stringify(frame)) as typeof frame;
        if (copy.Type === 'Offer') copy.Offer.Offer.sdp = sdp;
        if (copy.Type === 'Answer') copy.Answer.Answer.sdp = sdp;
        return frame.Type === 'Answer' ? { frame: copy, delayMs: 400 } : copy;
      }
      return frame;
    };
    const a = bot(hub, 'A');
    bot(hub, 'B', { answer: everyone });
    const call = a.call('B');
    await call.waitFor('connected');
    const log = hub.log.filter((e) => e.from === 'B').map((e) => e.frame.Type);
    expect(log.indexOf('Candidate')).toBeGreaterThanOrEqual(0);
  });

  it('a hard Left ends the calls with that peer', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B', { answer: everyone });
    const call = a.call('B');
    await call.waitFor('connected');
    hub.leave('B');
    expect(await call.closed()).toEqual({ status: 'closed', reason: 'left', by: 'remote' });
  });

  it('a second Offer on an established call: Bye unsupported, or renegotiation when enabled', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B', { answer: everyone });
    const call = a.call('B');
    await call.waitFor('connected');
    // Re-offer from A's existing peer connection.
    const pc = call.peerConnection!;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    hub.peers_send('A', { Type: 'Offer', Offer: { To: 'B', Type: 'Offer', Offer: { type: 'offer', sdp: pc.localDescription!.sdp } } });
    const bCall = b.calls.get('A');
    await until(() => hub.sent('Bye').some((e) => e.from === 'B' && e.frame.Bye.Bye.Reason === 'unsupported'), 20_000, 'Bye unsupported');
    expect(bCall?.isClosed ?? true).toBe(true);
  });

  it('ICE servers come from the signalling (Self) at call time', async () => {
    const hub = new Hub();
    const servers = [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }];
    const a = bot(hub, 'A');
    hub.peer('A')!.iceServers = () => servers;
    const call = a.call('nobody');
    expect(call.peerConnection!.getConfiguration().iceServers).toEqual(servers);
    call.hangup('abort');
  });
});
