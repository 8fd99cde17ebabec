import { describe, expect, it } from 'vitest';
import { CallManager, answerPolicy, fromCandidateMap, toCandidateMap, type CallManagerOptions } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { connectedCall, next, until, useBots } from './util.js';

const bot = useBots();
const everyone = answerPolicy({ kind: 'everyone' });

describe('candidate shapes', () => {
  it('strips a= and CRLF from incoming candidates; sends the web client shape', () => {
    expect(
      fromCandidateMap({ type: 'candidate', sdpMLineIndex: 0, sdpMid: 'audio', candidate: 'a=candidate:3326824476 1 udp 2113937151 10.1.1.201 44687 typ host generation 0\r\n' }),
    ).toEqual({ candidate: 'candidate:3326824476 1 udp 2113937151 10.1.1.201 44687 typ host generation 0', sdpMid: 'audio', sdpMLineIndex: 0 });
    expect(fromCandidateMap({ candidate: '', sdpMid: null, sdpMLineIndex: null })).toBeUndefined();
    expect(toCandidateMap({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 }, { _token: 't', _id: 3 })).toEqual({
      type: 'candidate',
      sdpMLineIndex: 0,
      sdpMid: '0',
      candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      _token: 't',
      _id: 3,
    });
  });
});

describe('hostile and racy signalling', () => {
  it('an Offer with a broken SDP gets Bye error and nothing crashes; a broken token Offer is dropped', async () => {
    const hub = new Hub();
    const b = bot(hub, 'B', { answer: everyone });
    b.registerToken({ match: 'tok', onConnection: () => undefined });
    hub.join('X');
    hub.peers_send('X', { Type: 'Offer', Offer: { To: 'B', Type: 'Offer', Offer: { type: 'offer', sdp: 'v=0\r\ngarbage' } } });
    hub.peers_send('X', { Type: 'Offer', Offer: { To: 'B', Type: 'Offer', Offer: { type: 'offer', sdp: 'nope', _token: 'tok', _id: 1 } } });
    hub.peers_send('X', { Type: 'Answer', Answer: { To: 'B', Type: 'Answer', Answer: { type: 'answer', sdp: 'nope' } } });
    hub.peers_send('X', { Type: 'Candidate', Candidate: { To: 'B', Type: 'Candidate', Candidate: { candidate: 'junk', sdpMid: '9', sdpMLineIndex: 9 } } });
    await until(() => hub.sent('Bye').some((e) => e.from === 'B'), 20_000, 'Bye');
    expect(hub.sent('Bye').filter((e) => e.from === 'B').map((e) => e.frame.Bye.Bye)).toEqual([{ Reason: 'error' }]);
    await until(() => b.tokenConnections.length === 0, 20_000, 'token connection dropped');
    // Still works afterwards.
    const a = bot(hub, 'A');
    await a.call('B').waitFor('connected');
  });

  it('glare: both call each other at once and end up in one connected call', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A', { answer: everyone });
    const b = bot(hub, 'B', { answer: everyone });
    a.call('B');
    b.call('A');
    await until(() => a.calls.get('B')?.state.status === 'connected' && b.calls.get('A')?.state.status === 'connected', 20_000, 'connected');
    expect(a.calls.get('B')!.direction).toBe('outgoing'); // the lower id keeps its Offer
    expect(b.calls.get('A')!.direction).toBe('incoming');
    expect(hub.sent('Bye')).toHaveLength(0);
  });

  it('ICE failed hangs up with Bye failed', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B', { answer: everyone });
    const call = a.call('B');
    await call.waitFor('connected');
    // werift reports a dead peer as ICE failed after ~30 s of consent failures; simulate the event.
    call.peerConnection!.connectionStateChange.execute('failed');
    expect(await call.closed()).toEqual({ status: 'closed', reason: 'failed', by: 'local' });
    await until(() => b.calls.size === 0, 20_000, 'remote Bye');
    expect(hub.sent('Bye').at(-1)!.frame.Bye.Bye).toEqual({ Reason: 'failed' });
  });

  it('a peer that comes back with the same id and a fresh Offer replaces a disconnected call', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A', { answer: answerPolicy({ kind: 'never' }) });
    const b = bot(hub, 'B', { answer: everyone });
    const first = b.call('A');
    hub.intercept = undefined;
    // A answers B's first call by hand (its policy rejects everything else).
    const ringing = await next(a.calls$);
    await ringing.accept();
    await first.waitFor('connected');
    ringing.peerConnection!.connectionStateChange.execute('disconnected');
    expect(ringing.state.status).toBe('disconnected');

    // B "restarts": a new manager with the same session id.
    hub.intercept = (f, from) => (from === 'B' && f.Type === 'Bye' ? null : f); // the old B dies silently
    b.close();
    hub.intercept = undefined;
    const b2 = bot(hub, 'B');
    const replacement = next(a.calls$);
    const again = b2.call('A');
    const second = await replacement;
    expect(await ringing.closed()).toMatchObject({ reason: 'replaced' });
    await again.waitFor('connected');
    expect(second.state.status).toBe('connected');
  });

  it('calls ring until the pickup timeout unless decided; close() on the manager hangs up everything', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    const b = bot(hub, 'B', { answer: everyone });
    const c = bot(hub, 'C', { answer: everyone });
    await Promise.all([a.call('B').waitFor('connected'), a.call('C').waitFor('connected')]);
    a.close();
    a.close();
    await until(() => b.calls.size === 0 && c.calls.size === 0, 20_000, 'Byes');
    expect(() => a.call('B')).toThrow(/closed/);
  });
});
