import { afterEach, describe, expect, it } from 'vitest';
import { CallManager, answerPolicy, autoCallStatus, decideAnswer, supportsAutoCall } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { next, until } from './util.js';

const managers: CallManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

describe('answer policy (pure)', () => {
  const ctx = { peerId: 'p1', displayName: 'Alice', activeCalls: 0, autoCallRequested: false };
  it('decides', () => {
    expect(decideAnswer({ kind: 'everyone' }, ctx)).toBe('accept');
    expect(decideAnswer({ kind: 'never' }, ctx)).toBe('reject');
    expect(decideAnswer({ kind: 'allow', allow: ['Alice'] }, ctx)).toBe('accept');
    expect(decideAnswer({ kind: 'allow', allow: ['p1'] }, ctx)).toBe('accept');
    expect(decideAnswer({ kind: 'allow', allow: ['Bob'] }, ctx)).toBe('reject');
    expect(decideAnswer({ kind: 'after-autocall' }, ctx)).toBe('reject');
    expect(decideAnswer({ kind: 'after-autocall' }, { ...ctx, autoCallRequested: true })).toBe('accept');
    expect(decideAnswer({ kind: 'everyone', busyWhenInCall: true }, { ...ctx, activeCalls: 1 })).toBe('busy');
  });
});

describe('AutoCall', () => {
  it('builds the status and detects support', () => {
    const status = autoCallStatus({ displayName: 'Bot' });
    expect(status).toEqual({ displayName: 'Bot', buddyPicture: null, message: null, autoCalls: ['conference'] });
    expect(supportsAutoCall(status)).toBe(true);
    expect(supportsAutoCall({ displayName: 'x' })).toBe(false);
  });

  it('requestAutoCall: the peer calls back and the call is accepted without asking the policy', async () => {
    const hub = new Hub();
    const requester = new CallManager({ signaling: hub.join('R'), answer: answerPolicy({ kind: 'after-autocall' }) });
    const callee = new CallManager({ signaling: hub.join('S') });
    managers.push(requester, callee);
    const incoming = next(requester.calls$);
    requester.requestAutoCall('S', 'my-conference');
    const chat = hub.sent('Chat')[0]!.frame.Chat;
    expect(chat.To).toBe('S');
    expect(chat.Chat.Status?.AutoCall).toEqual({ Type: 'conference', Id: 'my-conference' });
    expect(chat.Chat.Mid).toMatch(/^[0-9a-f]{32}$/);
    const call = await incoming;
    expect(call.direction).toBe('incoming');
    await call.waitFor('connected');
    await until(() => callee.calls.get('R')?.state.status === 'connected', 20_000, 'callback connected');
  });

  it('an unrequested caller is rejected by the after-autocall policy', async () => {
    const hub = new Hub();
    const bot = new CallManager({ signaling: hub.join('R'), answer: answerPolicy({ kind: 'after-autocall' }) });
    const other = new CallManager({ signaling: hub.join('T') });
    managers.push(bot, other);
    expect(await other.call('R').closed()).toMatchObject({ reason: 'reject', by: 'remote' });
  });
});

describe('renegotiation', () => {
  it('is accepted when enabled', async () => {
    const hub = new Hub();
    const a = new CallManager({ signaling: hub.join('A') });
    const b = new CallManager({ signaling: hub.join('B'), answer: answerPolicy({ kind: 'everyone' }), renegotiation: true });
    managers.push(a, b);
    const call = a.call('B');
    await call.waitFor('connected');
    const pc = call.peerConnection!;
    pc.addTransceiver('video', { direction: 'recvonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    hub.peers_send('A', { Type: 'Offer', Offer: { To: 'B', Type: 'Offer', Offer: { type: 'offer', sdp: pc.localDescription!.sdp } } });
    await until(() => hub.sent('Answer').filter((e) => e.from === 'B').length === 2, 20_000, 'second Answer');
    expect(b.calls.get('A')?.state.status).toBe('connected');
    expect(hub.sent('Bye')).toHaveLength(0);
  });
});
