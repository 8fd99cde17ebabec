import { describe, expect, it, expectTypeOf } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { toArray, firstValueFrom } from 'rxjs';
import { ChannelError, ChannelRequestError, entersState, ofType, type ChannelState } from '../../src/channel/index.js';
import { frames, type Received } from '../../src/protocol/index.js';
import { startFakeServer } from './fake-server.js';
import { channel, next, pairInRoom, useFakeServer } from './helpers.js';

const fake = useFakeServer();

describe('Channel: connect and requests', () => {
  it('connects and resolves with the pushed Self', async () => {
    const c = channel(fake.current.url);
    const states: ChannelState['status'][] = [];
    c.state$.subscribe((s) => states.push(s.status));
    const self = await c.connect();
    expect(self.Type).toBe('Self');
    expect(c.id).toBe(self.Id);
    expect(c.self).toEqual(self);
    expect(c.state).toMatchObject({ status: 'connected', self: { Id: self.Id } });
    expect(states).toEqual(['connecting', 'connected']);
    expect(await firstValueFrom(c.self$)).toEqual(self);
    expect(c.iceServers()).toEqual([]);
  });

  it('connect() is idempotent', async () => {
    const c = channel(fake.current.url);
    const a = c.connect();
    expect(c.connect()).toBe(a);
    await a;
    expect(fake.current.sessions.size).toBe(1);
  });

  it('hello → Welcome and state joined; others see Joined with the same id', async () => {
    const a = channel(fake.current.url);
    const b = channel(fake.current.url);
    await Promise.all([a.connect(), b.connect()]);
    await a.hello({ room: 'r1' });
    const joined = next(a.documents$.pipe(ofType('Joined')));
    const welcome = await b.hello({ room: 'r1', ua: 'test-ua' });
    expect(welcome.Room.Name).toBe('r1');
    expect(welcome.Users.map((u) => u.Id).sort()).toEqual([a.id, b.id].sort());
    expect(b.state).toMatchObject({ status: 'joined', room: { Name: 'r1' } });
    expect((await joined).doc).toMatchObject({ Id: b.id, Ua: 'test-ua' });
    const hello = fake.current.received.find((r) => r.id === b.id && r.type === 'Hello');
    expect(hello?.doc).toMatchObject({ Name: 'r1', Type: '', Version: 'fake.1' });
    expect(hello?.doc.Credentials).toBeUndefined();
    expect(hello?.iid).toBeTruthy();
  });

  it('PIN errors reject with typed ChannelRequestError codes', async () => {
    fake.current.setPin('locked', '1234');
    const c = channel(fake.current.url);
    await c.connect();
    const noPin = await c.hello({ room: 'locked' }).catch((e: unknown) => e);
    expect(noPin).toBeInstanceOf(ChannelRequestError);
    expect(noPin).toMatchObject({ code: 'authorization_required', request: 'Hello' });
    const wrong = await c.hello({ room: 'locked', pin: '9999' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'invalid_credentials' });
    expect((wrong as Error).message).toMatch(/PIN is wrong/);
    const welcome = await c.hello({ room: 'locked', pin: '1234' });
    expect(welcome.Room.Name).toBe('locked');
    expect(fake.current.received.filter((r) => r.type === 'Hello').at(-1)?.doc.Credentials).toEqual({ PIN: '1234' });
  });

  it('a failed Hello leaves no room and is not retried on reconnect', async () => {
    fake.current.setPin('locked', '1234');
    const c = channel(fake.current.url, { reconnect: { delay: () => 10 } });
    await c.connect();
    await c.hello({ room: 'first' });
    await expect(c.hello({ room: 'locked', pin: 'bad' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(c.state.status).toBe('connected');
    fake.current.drop(c.id!);
    await entersState(c, 'reconnecting', 15_000);
    await entersState(c, 'connected', 15_000);
    await c.request(frames.self()); // a round trip on the new socket
    const hellos = fake.current.received.filter((r) => r.id === c.id && r.type === 'Hello');
    expect(hellos.map((h) => h.doc.Name)).toEqual(['first', 'locked']);
  });

  it('retries once without the PIN on authorization_not_required', async () => {
    const a = channel(fake.current.url);
    await a.connect();
    await a.hello({ room: 'open' });
    const c = channel(fake.current.url);
    await c.connect();
    const welcome = await c.hello({ room: 'open', pin: '1111' });
    expect(welcome.Room.Name).toBe('open');
    const hellos = fake.current.received.filter((r) => r.id === c.id && r.type === 'Hello');
    expect(hellos.map((h) => h.doc.Credentials)).toEqual([{ PIN: '1111' }, undefined]);
  });

  it('request() adds a unique Iid and resolves with the reply carrying it', async () => {
    const c = channel(fake.current.url);
    await c.connect();
    const notInRoom = await c.request(frames.users()).catch((e: unknown) => e);
    expect(notInRoom).toMatchObject({ code: 'not_in_room' });
    await c.hello({ room: 'r' });
    const [u1, u2] = await Promise.all([c.request(frames.users()), c.request(frames.self())]);
    expect(u1.kind).toBe('Users');
    expect(u2.kind).toBe('Self');
    expect(u1.iid).not.toBe(u2.iid);
    const iids = fake.current.received.filter((r) => r.iid).map((r) => r.iid);
    expect(new Set(iids).size).toBe(iids.length);
  });

  it('request() times out with ChannelError timeout when nothing answers', async () => {
    const c = channel(fake.current.url);
    await c.connect();
    const error = await c.request(frames.chat('nobody', { Message: 'x' }) as never, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('ofType narrows documents', async () => {
    const [a, b] = await pairInRoom(fake.current.url, 'chat');
    const chat$ = a.documents$.pipe(ofType('Chat'));
    expectTypeOf(chat$).toEqualTypeOf<import('rxjs').Observable<Received<'Chat'>>>();
    const mixed$ = a.documents$.pipe(ofType('Offer', 'Answer'));
    expectTypeOf(mixed$).toEqualTypeOf<import('rxjs').Observable<Received<'Offer'> | Received<'Answer'>>>();
    const got = next(chat$);
    b.send(frames.chat('', { Message: 'hi', NoEcho: true }));
    const chat = await got;
    expect(chat.doc.Chat.Message).toBe('hi');
    expect(chat.from).toBe(b.id);
  });

  it('sends Alive when idle and measures the round trip', async () => {
    const c = channel(fake.current.url, { aliveIdleMs: 40, deadAfterMs: 5000 });
    await c.connect();
    const rtt = await next(c.rtt$);
    expect(rtt).toBeGreaterThanOrEqual(0);
    const alive = fake.current.received.find((r) => r.type === 'Alive');
    expect(alive?.doc).toMatchObject({ Type: 'Alive' });
    expect(typeof alive?.doc.Alive).toBe('number');
  });

  it('setStatus sends Status; others see it', async () => {
    const [a, b] = await pairInRoom(fake.current.url, 's');
    const status = next(a.documents$.pipe(ofType('Status')));
    b.setStatus({ displayName: 'Bob', buddyPicture: null, message: null });
    expect((await status).doc).toMatchObject({ Id: b.id, Status: { displayName: 'Bob' } });
  });

  it('leave() sends Leave, forgets the room and returns to connected', async () => {
    const c = channel(fake.current.url);
    await c.connect();
    await c.hello({ room: 'x' });
    c.leave();
    expect(c.state.status).toBe('connected');
    await c.request(frames.users()).catch(() => undefined); // a round trip: Leave has been processed
    expect(fake.current.received.filter((r) => r.id === c.id).map((r) => r.type)).toContain('Leave');
  });

  it('a throwing subscriber does not stop the stream for others', async () => {
    const [a, b] = await pairInRoom(fake.current.url, 't');
    a.documents$.pipe(ofType('Chat')).subscribe(() => {
      throw new Error('subscriber bug');
    });
    const seen: string[] = [];
    a.documents$.pipe(ofType('Chat')).subscribe((c) => seen.push(c.doc.Chat.Message ?? ''));
    b.send(frames.chat('', { Message: 'one' }));
    b.send(frames.chat('', { Message: 'two' }));
    await next(a.documents$.pipe(ofType('Chat')), (c) => c.doc.Chat.Message === 'two');
    expect(seen).toEqual(['one', 'two']);
    await new Promise((r) => setTimeout(r, 10)); // let rxjs report the dropped errors
  });

  it('close() is idempotent, completes every observable and rejects later use', async () => {
    const c = channel(fake.current.url);
    await c.connect();
    const docs = firstValueFrom(c.documents$.pipe(toArray()));
    const states = firstValueFrom(c.state$.pipe(toArray()));
    const closed = firstValueFrom(c.closed$);
    const p = c.close();
    expect(c.close()).toBe(p);
    await p;
    await docs;
    expect((await states).at(-1)).toEqual({ status: 'closed', reason: 'closed by client' });
    await closed;
    await firstValueFrom(c.closed$); // replayed
    expect(() => c.send(frames.users())).toThrow(expect.objectContaining({ code: 'closed' }));
    await expect(c.request(frames.users())).rejects.toMatchObject({ code: 'closed' });
    await expect(c.hello({ room: 'x' })).rejects.toMatchObject({ code: 'closed' });
    await expect(entersState(c, 'joined', 1000)).rejects.toMatchObject({ code: 'closed' });
  });

  it('entersState resolves at once, times out, and honours an AbortSignal', async () => {
    const c = channel(fake.current.url);
    await c.connect();
    await expect(entersState(c, 'connected', 100)).resolves.toBe(c);
    await expect(entersState(c, 'joined', 20)).rejects.toMatchObject({ code: 'timeout' });
    const ac = new AbortController();
    const waiting = entersState(c, 'joined', ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
  });

  it('derives iceServers from Self Turn/Stun and refreshes Self at 90% of ttl', async () => {
    await fake.current.close();
    fake.current = await startFakeServer({ turnTtl: 0.05 });
    const c = channel(fake.current.url);
    await c.connect();
    expect(c.iceServers()).toEqual([{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'p' }]);
    await next(c.documents$.pipe(ofType('Self')), (s) => s.iid !== undefined);
    expect(fake.current.received.some((r) => r.type === 'Self')).toBe(true);
  });
});

describe('Channel: WebSocket pings', () => {
  it('answers server pings (the real server drops clients that do not pong within 60 s)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const pong = new Promise<string>((resolve) =>
      wss.on('connection', (socket) => {
        socket.on('pong', (data) => resolve(data.toString()));
        socket.send(JSON.stringify({ Data: { Type: 'Self', Id: 'x', Sid: 's', Token: 't' } }));
        socket.ping('p1');
      }),
    );
    const c = channel(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`);
    await c.connect();
    expect(await pong).toBe('p1');
    await c.close();
    wss.close();
  });
});
