import { describe, expect, it } from 'vitest';
import { CallManager, answerPolicy, decideConference, newConferenceId, type CallManagerOptions } from '../../src/peer/index.js';
import { Hub } from './hub.js';
import { until, useBots } from './util.js';

const bot = useBots();

function connected(m: CallManager): string[] {
  return [...m.calls.values()].filter((c) => c.state.status === 'connected').map((c) => c.peerId).sort();
}

describe('conference rules (pure)', () => {
  const base = { ownId: 'b', id: 'conf', ids: ['A', 'b', 'C', 'd'], currentConferenceId: undefined, conferenceRoom: false };
  it('ignores without calls outside conference rooms, and docs from a peer that is not the sole call peer', () => {
    expect(decideConference({ ...base, from: 'A', callPeers: [] }).action).toBe('ignore');
    expect(decideConference({ ...base, from: 'C', callPeers: ['A'] }).action).toBe('ignore');
    expect(decideConference({ ...base, from: 'A', ids: ['b', 'C'], callPeers: ['A'] }).action).toBe('ignore');
  });
  it('offers only to greater ids by code-unit order (not localeCompare), skipping existing calls', () => {
    const d = decideConference({ ...base, from: 'A', callPeers: ['A'] });
    // 'b' < 'd' but 'b' > 'A' and 'b' > 'C' in code-unit order.
    expect(d).toEqual({ action: 'join', conferenceId: 'conf', offerTo: ['d'] });
  });
  it('with several calls: ignores a different conference, or none set outside conference rooms', () => {
    expect(decideConference({ ...base, from: 'A', callPeers: ['A', 'C'], currentConferenceId: 'other' }).action).toBe('ignore');
    expect(decideConference({ ...base, from: 'A', callPeers: ['A', 'C'] }).action).toBe('ignore');
    expect(decideConference({ ...base, from: 'A', callPeers: ['A', 'C'], currentConferenceId: 'conf' })).toEqual({
      action: 'join',
      conferenceId: 'conf',
      offerTo: ['d'],
    });
  });
  it('conference rooms accept server docs without calls', () => {
    expect(decideConference({ ...base, from: '', callPeers: [], conferenceRoom: true })).toEqual({ action: 'join', conferenceId: 'conf', offerTo: ['d'] });
  });
  it('conference ids look like the web client ones', () => {
    expect(newConferenceId('own')).toMatch(/^own_\d+_\d{1,16}$/);
  });
});

describe('conferences (werift peers)', () => {
  it('3-party ad-hoc: the bot with two connected calls sends the Conference doc and the others connect by the ordering rule', async () => {
    const hub = new Hub();
    const everyone = answerPolicy({ kind: 'everyone' });
    const a = bot(hub, 'A');
    const b = bot(hub, 'b', { answer: everyone });
    const c = bot(hub, 'C', { answer: everyone });
    await a.call('b').waitFor('connected');
    await a.call('C').waitFor('connected');
    await until(() => connected(b).length === 2 && connected(c).length === 2, 15_000, 'b and C connected to each other');
    expect(connected(a)).toEqual(['C', 'b']);
    const conf = hub.sent('Conference').find((e) => e.from === 'A')!.frame.Conference;
    expect(conf.Conference).toContain('A');
    expect(conf.Id).toMatch(/^A_\d+_\d+$/);
    expect(a.conferenceId).toBe(conf.Id);
    expect(b.conferenceId).toBe(conf.Id);
    // 'C' < 'b' in code-unit order: C offers to b with _conference, never the other way.
    const confOffers = hub.sent('Offer').filter((e) => e.frame.Offer.Offer._conference !== undefined);
    expect(confOffers.map((e) => [e.from, e.frame.Offer.To, e.frame.Offer.Offer._conference])).toEqual([['C', 'b', conf.Id]]);
  });

  it('an Offer with an unknown _conference gets Bye busy', async () => {
    const hub = new Hub();
    const a = bot(hub, 'A');
    bot(hub, 'B', { answer: answerPolicy({ kind: 'everyone' }) });
    const call = a.call('B', { conference: 'not-yours' });
    expect(await call.closed()).toEqual({ status: 'closed', reason: 'busy', by: 'remote' });
  });

  it('addToConference calls new peers normally and links existing ones', async () => {
    const hub = new Hub();
    const everyone = answerPolicy({ kind: 'everyone' });
    const a = bot(hub, 'A', { autoConference: false });
    const b = bot(hub, 'B', { answer: everyone });
    const c = bot(hub, 'C', { answer: everyone });
    await a.call('B').waitFor('connected');
    await a.call('C').waitFor('connected');
    expect(a.conferenceId).toBeUndefined();
    const id = a.addToConference(['B', 'C']);
    await until(() => connected(b).length === 2 && connected(c).length === 2, 15_000, 'B–C link');
    expect(c.conferenceId).toBe(id);
  });

  it('Conference-type room: a server Conference doc connects 3 bots pairwise; leaving the room hangs up', async () => {
    const hub = new Hub();
    const never = answerPolicy({ kind: 'never' }); // conference offers bypass the policy
    const bots = ['x1', 'X2', 'x3'].map((id) => bot(hub, id, { answer: never }));
    hub.serverConference('conference/test');
    await until(() => bots.every((m) => connected(m).length === 2), 20_000, 'all pairs connected');
    for (const m of bots) expect(m.conferenceId).toBe('Conference:conference/test');
    const confOffers = hub.sent('Offer').map((e) => [e.from, e.frame.Offer.To]);
    for (const [from, to] of confOffers) expect(from! < to!).toBe(true);
    expect(confOffers).toHaveLength(3);
    expect(hub.sent('Conference')).toHaveLength(0); // nobody sends Conference docs in such rooms

    // Switching rooms (a Welcome for another room) after a Conference room hangs up all calls.
    const first = bots[0]!;
    const x1 = hub.peer('x1')!;
    hub.deliver(x1, { Data: { Type: 'Welcome', Room: { Type: 'Conference', Name: 'conference/test' }, Users: [] }, From: 'x1' });
    hub.deliver(x1, { Data: { Type: 'Welcome', Room: { Type: 'Room', Name: 'elsewhere' }, Users: [] }, From: 'x1' });
    await until(() => first.calls.size === 0, 20_000, 'hangup on leaving');
    await until(() => bots.slice(1).every((m) => connected(m).length === 1), 20_000, 'others see the Bye');
  });

  it('rejoining the same room with ≥ 2 disconnected conference calls re-sends the Conference doc', async () => {
    const hub = new Hub();
    const everyone = answerPolicy({ kind: 'everyone' });
    const a = bot(hub, 'A');
    bot(hub, 'b', { answer: everyone });
    bot(hub, 'C', { answer: everyone });
    await a.call('b').waitFor('connected');
    await a.call('C').waitFor('connected');
    await until(() => a.conferenceId !== undefined, 20_000, 'conference');
    const welcome = { Data: { Type: 'Welcome', Room: { Type: 'Room', Name: 'r' }, Users: [] }, From: 'A' };
    hub.deliver(hub.peer('A')!, welcome);
    await until(() => hub.sent('Conference').length >= 1, 20_000, 'first Conference doc');
    const before = hub.sent('Conference').length;
    for (const c of a.calls.values()) c.peerConnection!.connectionStateChange.execute('disconnected');
    hub.deliver(hub.peer('A')!, welcome); // the re-Hello after a reconnect
    await until(() => hub.sent('Conference').length > before, 20_000, 're-sent Conference doc');
    const doc = hub.sent('Conference').at(-1)!;
    expect(doc.from).toBe('A');
    expect(doc.frame.Conference.Id).toBe(a.conferenceId);
    expect([...doc.frame.Conference.Conference].sort()).toEqual(['A', 'C', 'b']);
  });
});
