import { afterEach, describe, expect, it } from 'vitest';
import { BehaviorSubject, Subject } from 'rxjs';
import type { Channel, ChannelState } from '../../src/channel/index.js';
import { parseEnvelopeObject, type Received } from '../../src/protocol/index.js';
import { RoomState, type LeftEvent, type Participant } from '../../src/room/index.js';
import { startFakeServer } from '../channel/fake-server.js';
import { channel, closeAll, next } from '../channel/helpers.js';

/** A channel stand-in fed with wire documents, validated by the real protocol parser. */
function feed() {
  const documents = new Subject<Received>();
  const state = new BehaviorSubject<ChannelState>({ status: 'connecting', attempt: 0 });
  const fake = {
    documents$: documents.asObservable(),
    state$: state.asObservable(),
    get state() {
      return state.getValue();
    },
    id: 'me',
  } as unknown as Channel;
  const room = new RoomState(fake);
  const joined: Participant[] = [];
  const left: LeftEvent[] = [];
  room.joined$.subscribe((p) => joined.push(p));
  room.left$.subscribe((e) => left.push(e));
  const push = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const parsed = parseEnvelopeObject({ Data: data, From: 'x', ...extra });
    if (!parsed.ok) throw new Error(parsed.reason);
    documents.next(parsed.value);
  };
  const self = { Type: 'Self', Id: 'me', Sid: 's', Token: 't', Userid: '', Suserid: '', Version: '' } as never;
  const welcome = (name: string, users: Record<string, unknown>[]) =>
    push({ Type: 'Welcome', Room: { Type: 'Room', Name: name, Credentials: null }, Users: users }, { Iid: '0' });
  return { room, joined, left, push, welcome, state, documents, self };
}

const online = (id: string, extra: Record<string, unknown> = {}) => ({ Type: 'Online', Id: id, Ua: 'Chrome 156', Rev: 1, Prio: 100, ...extra });

describe('RoomState', () => {
  it('seeds from Welcome.Users without self, and without joined events', () => {
    const f = feed();
    f.welcome('r', [online('me'), online('a', { Status: { displayName: 'Alice' } }), online('b')]);
    expect([...f.room.users.keys()].sort()).toEqual(['a', 'b']);
    expect(f.room.get('a')).toMatchObject({ id: 'a', ua: 'Chrome 156', rev: 1, displayName: 'Alice', status: { displayName: 'Alice' } });
    expect(f.room.displayName('b')).toBe('b');
    expect(f.room.displayName('0123456789abcdef')).toBe('01234567');
    expect(f.room.ownId).toBe('me');
    expect(f.room.roomName).toBe('r');
    expect(f.joined).toEqual([]);
  });

  it('adds on Joined and removes on Left with soft/hard status', () => {
    const f = feed();
    f.welcome('r', [online('me')]);
    f.push({ Type: 'Joined', Id: 'c', Ua: 'Firefox 140', Prio: 100, Status: { displayName: 'Carol' } });
    expect(f.joined.map((p) => [p.id, p.displayName, p.rev])).toEqual([['c', 'Carol', 0]]);
    f.push({ Type: 'Left', Id: 'c', Status: 'soft' });
    expect(f.room.users.size).toBe(0);
    expect(f.left).toEqual([{ id: 'c', status: 'soft', participant: expect.objectContaining({ id: 'c' }) }]);
    f.push({ Type: 'Left', Id: 'unknown', Status: 'hard' });
    expect(f.left[1]).toEqual({ id: 'unknown', status: 'hard' });
  });

  it('orders Status by Rev: older ignored, without Id ignored, own skipped, null ignored', () => {
    const f = feed();
    f.welcome('r', [online('a', { Rev: 1 })]);
    f.push({ Type: 'Status', Id: 'a', Rev: 3, Prio: 100, Status: { displayName: 'New' } });
    f.push({ Type: 'Status', Id: 'a', Rev: 2, Prio: 100, Status: { displayName: 'Old' } });
    expect(f.room.get('a')).toMatchObject({ rev: 3, displayName: 'New' });
    f.push({ Type: 'Status', Rev: 9, Status: { displayName: 'NoId' } });
    f.push({ Type: 'Status', Id: 'me', Rev: 9, Status: { displayName: 'Me' } });
    f.push({ Type: 'Status', Id: 'a', Rev: 4, Status: null });
    expect(f.room.get('a')).toMatchObject({ rev: 3, displayName: 'New' });
    expect(f.room.users.has('me')).toBe(false);
    f.push({ Type: 'Status', Id: 'a', Rev: 4, Userid: 'alice', Status: { displayName: 'Newer' } });
    expect(f.room.get('a')).toMatchObject({ rev: 4, displayName: 'Newer', userid: 'alice' });
  });

  it('a re-Joined with the same id (resumed session) restarts its Rev and keeps joinedAt', () => {
    const f = feed();
    f.welcome('r', [online('a', { Rev: 5, Status: { displayName: 'A' } })]);
    const joinedAt = f.room.get('a')!.joinedAt;
    f.push({ Type: 'Joined', Id: 'a', Ua: 'Chrome 157', Prio: 100 });
    expect(f.room.get('a')).toMatchObject({ rev: 0, ua: 'Chrome 157', joinedAt, displayName: 'A' });
    expect(f.joined).toEqual([]);
    f.push({ Type: 'Status', Id: 'a', Rev: 2, Status: { displayName: 'A again' } });
    expect(f.room.get('a')).toMatchObject({ rev: 2, displayName: 'A again' });
  });

  it('a re-Welcome of the same room (own reconnect) reports the difference', () => {
    const f = feed();
    f.welcome('r', [online('a'), online('b')]);
    f.welcome('r', [online('me'), online('b'), online('c')]);
    expect([...f.room.users.keys()].sort()).toEqual(['b', 'c']);
    expect(f.joined.map((p) => p.id)).toEqual(['c']);
    expect(f.left.map((e) => [e.id, e.status])).toEqual([['a', 'hard']]);
  });

  it('clears on a room change and on leave', () => {
    const f = feed();
    f.state.next({ status: 'joined', self: f.self, room: { Type: 'Room', Name: 'r' } });
    f.welcome('r', [online('a')]);
    f.welcome('other', [online('z')]);
    expect([...f.room.users.keys()]).toEqual(['z']);
    expect(f.left).toEqual([]);
    f.state.next({ status: 'joined', self: f.self, room: { Type: 'Room', Name: 'other' } });
    f.state.next({ status: 'connected', self: f.self });
    expect(f.room.users.size).toBe(0);
  });

  it('keeps the room across reconnecting, drops documents outside a room, ignores unsolicited Users', () => {
    const f = feed();
    f.push({ Type: 'Joined', Id: 'early', Prio: 100 });
    expect(f.room.users.size).toBe(0);
    f.state.next({ status: 'joined', self: f.self, room: { Type: 'Room', Name: 'r' } });
    f.welcome('r', [online('a')]);
    const cause = { kind: 'closed', code: 'close 1006', message: 'x', permanent: false } as const;
    f.state.next({ status: 'reconnecting', attempt: 1, delayMs: 0, nextRetryAt: Date.now(), failure: 'lost', cause, reason: 'x' });
    f.state.next({ status: 'connecting', attempt: 1 });
    f.state.next({ status: 'connected', self: f.self });
    expect(f.room.users.size).toBe(1);
    f.push({ Type: 'Users', Users: [] });
    expect(f.room.users.size).toBe(1);
  });

  it('close() completes its observables and is idempotent; channel completion closes it', () => {
    const f = feed();
    let completed = 0;
    f.room.users$.subscribe({ complete: () => completed++ });
    f.room.joined$.subscribe({ complete: () => completed++ });
    f.documents.complete();
    f.room.close();
    expect(completed).toBe(2);
  });
});

describe('RoomState over a real channel', () => {
  afterEach(closeAll);

  it('follows joins, statuses, leaves and a peer reconnect with the same id', async () => {
    const server = await startFakeServer();
    try {
      const a = channel(server.url);
      const b = channel(server.url, { reconnect: { delay: () => 20 } });
      await Promise.all([a.connect(), b.connect()]);
      const room = new RoomState(a);
      await a.hello({ room: 'live' });
      const joined = next(room.joined$);
      await b.hello({ room: 'live' });
      expect((await joined).id).toBe(b.id);
      b.setStatus({ displayName: 'Bob' });
      await next(room.users$, (u) => u.get(b.id!)?.displayName === 'Bob');
      const left = next(room.left$);
      const rejoined = next(room.joined$);
      server.drop(b.id!);
      expect(await left).toMatchObject({ id: b.id, status: 'hard' });
      expect((await rejoined).id).toBe(b.id);
      await next(room.users$, (u) => u.get(b.id!)?.displayName === 'Bob');
      room.close();
    } finally {
      await closeAll();
      await server.close();
    }
  });
});
