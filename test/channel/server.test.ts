import type { Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelRequestError, entersState, ofType, type ChannelState } from '../../src/channel/index.js';
import { frames } from '../../src/protocol/index.js';
import { RoomState } from '../../src/room/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { channel, closeAll, next, pairInRoom } from './helpers.js';
import { startProxy, type CuttingProxy } from './proxy.js';

/* The channel against the embedded channeling server, over real WebSockets. */

let server: ChannelingServer;
let proxy: CuttingProxy;
beforeEach(async () => {
  server = await startServer({ inboundFramesPerSecond: 0 });
  proxy = await startProxy(server.url);
});
afterEach(async () => {
  await closeAll();
  await proxy.close();
  await server.close();
});

describe('Channel ↔ embedded server', () => {
  it('connect → Self, hello → Welcome, states in order', async () => {
    const c = channel(server.url);
    const states: ChannelState['status'][] = [];
    c.state$.subscribe((s) => states.push(s.status));
    const self = await c.connect();
    expect(self).toMatchObject({ Type: 'Self', Id: expect.any(String), Token: expect.any(String), ApiVersion: 1.4 });
    const welcome = await c.hello({ room: 'integration' });
    expect(welcome.Room).toMatchObject({ Name: 'integration', Credentials: null });
    expect(welcome.Users.map((u) => u.Id)).toContain(self.Id);
    expect(states).toEqual(['connecting', 'connected', 'joined']);
  });

  it('PIN rooms: authorization_required, invalid_credentials, then success; no-PIN retry', async () => {
    const owner = channel(server.url);
    await owner.connect();
    await owner.hello({ room: 'pinned', pin: '4321' }); // the creating Hello sets the PIN
    const c = channel(server.url);
    await c.connect();
    const missing = await c.hello({ room: 'pinned' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ChannelRequestError);
    expect(missing).toMatchObject({ code: 'authorization_required' });
    await expect(c.hello({ room: 'pinned', pin: '0000' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    await expect(c.hello({ room: 'pinned', pin: '4321' })).resolves.toMatchObject({ Type: 'Welcome' });
    await owner.hello({ room: 'plain' });
    await expect(c.hello({ room: 'plain', pin: '99' })).resolves.toMatchObject({ Room: { Name: 'plain' } });
  });

  it('request() with Iid: Users reply, and Error without room', async () => {
    const c = channel(server.url);
    await c.connect();
    await expect(c.request(frames.users())).rejects.toMatchObject({ code: 'not_in_room' });
    await c.hello({ room: 'u' });
    const users = await c.request(frames.users());
    expect(users.kind).toBe('Users');
    expect(users.iid).toBeDefined();
  });

  it('Alive in object form is echoed; rtt$ measures it', async () => {
    const c = channel(server.url, { aliveIdleMs: 30 });
    await c.connect();
    expect(await next(c.rtt$, undefined, 'rtt')).toBeGreaterThanOrEqual(0);
  });

  it('ofType narrows relayed Chat from another client', async () => {
    const [a, b] = await pairInRoom(server.url, 'c');
    const chat = next(a.documents$.pipe(ofType('Chat')), undefined, 'Chat');
    b.send(frames.chat(a.id!, { Message: 'private', Mid: 'ab'.repeat(16), NoEcho: true }));
    const got = await chat;
    expect(got.doc.Chat.Message).toBe('private');
    expect(got.from).toBe(b.id);
  });

  it('reconnect after the server-side socket dies: same Id, same room, Status re-sent, queue delivered', async () => {
    const a = channel(proxy.url, { reconnect: { delay: () => 100 } });
    const b = channel(server.url);
    await Promise.all([a.connect(), b.connect()]);
    a.setStatus({ displayName: 'Alice', buddyPicture: null, message: null });
    await a.hello({ room: 'resume' });
    await b.hello({ room: 'resume' });
    const room = new RoomState(b);
    await b.request(frames.users()); // seeds b's view with a
    const id = a.id!;

    const hardLeft = next(b.documents$.pipe(ofType('Left')), undefined, 'Left');
    proxy.cutAll();
    await entersState(a, 'reconnecting', 15_000);
    expect((await hardLeft).doc).toMatchObject({ Id: id, Status: 'hard' });

    const rejoined = next(b.documents$.pipe(ofType('Joined')), (j) => j.doc.Id === id, 'Joined');
    const status = next(b.documents$.pipe(ofType('Status')), (s) => s.doc.Id === id, 'Status');
    const all = next(b.documents$.pipe(ofType('Chat')), (c) => c.doc.Chat.Message === 'q9', 'q9');
    const seen: string[] = [];
    b.documents$.pipe(ofType('Chat')).subscribe((c) => seen.push(c.doc.Chat.Message ?? ''));
    for (let i = 0; i < 10; i++) a.send(frames.chat(i % 2 ? b.id! : '', { Message: `q${i}`, NoEcho: true }));

    await entersState(a, 'joined', 15_000);
    expect(a.id).toBe(id);
    await rejoined;
    expect((await status).doc.Status).toMatchObject({ displayName: 'Alice' });
    await all;
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`));
    expect(room.get(id)?.displayName).toBe('Alice');
    const members = [...server.rooms().values()].find((m) => m.includes(b.id!));
    expect(members?.sort()).toEqual([id, b.id!].sort());
    room.close();
  });

  it('a silent (half-dead) link is detected; the resumed session replaces the old one without a Left', async () => {
    const a = channel(proxy.url, { aliveIdleMs: 50, deadAfterMs: 300, reconnect: { delay: () => 0 } });
    const b = channel(server.url);
    await Promise.all([a.connect(), b.connect()]);
    await a.hello({ room: 'halfdead' });
    await b.hello({ room: 'halfdead' });
    const left: string[] = [];
    b.documents$.pipe(ofType('Left')).subscribe((l) => left.push(l.doc.Id));
    const rejoined = next(b.documents$.pipe(ofType('Joined')), (j) => j.doc.Id === a.id, 'Joined');
    const id = a.id;
    proxy.freezeAll();
    const lost = await next(a.state$, (s) => s.status === 'reconnecting', 'reconnecting');
    expect(lost).toMatchObject({ reason: expect.stringMatching(/nothing received/) });
    await entersState(a, 'joined', 15_000);
    await rejoined;
    expect(a.id).toBe(id);
    expect(left).toEqual([]); // replaced, not left (PROTOCOL-NOTES §2.6)
    expect(server.sessionCount).toBe(2);
  });

  it('queue overflow throws queue_full while reconnecting', async () => {
    const c = channel(proxy.url, { maxQueue: 2, reconnect: { delay: () => 60_000 } });
    await c.connect();
    proxy.cutAll();
    await entersState(c, 'reconnecting', 15_000);
    c.send(frames.users());
    c.send(frames.users());
    expect(() => c.send(frames.users())).toThrow(expect.objectContaining({ code: 'queue_full' }));
  });

  it('answers the server pings: survives many pong deadlines without a reconnect', async () => {
    const pinging = await startServer({ pingIntervalMs: 100, pongTimeoutMs: 1000 });
    try {
      const c = channel(pinging.url, { aliveIdleMs: 60_000, deadAfterMs: 120_000 });
      const states: string[] = [];
      c.state$.subscribe((s) => states.push(s.status));
      await c.connect();
      await new Promise((r) => setTimeout(r, 2500)); // 2.5 pong deadlines
      expect(states).toEqual(['connecting', 'connected']);
      expect(pinging.sessionCount).toBe(1);
    } finally {
      await closeAll();
      await pinging.close();
    }
  });

  it('close() ends every observable and the server forgets the session', async () => {
    const c = channel(server.url);
    await c.connect();
    let completions = 0;
    const observables: Observable<unknown>[] = [c.documents$, c.state$, c.self$, c.rtt$, c.closed$];
    for (const o of observables) o.subscribe({ complete: () => completions++ });
    await c.close();
    await c.close();
    expect(completions).toBe(5);
  });
});
