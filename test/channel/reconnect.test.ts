import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { ChannelError, entersState, linearBackoff, ofType } from '../../src/channel/index.js';
import { frames } from '../../src/protocol/index.js';
import { channel, next, useFakeServer } from './helpers.js';

const fake = useFakeServer();

const slowRetry = (ms: number) => ({ delay: () => ms });

describe('Channel: reconnect', () => {
  it('comes back with the same session in the same room, re-sends Status, delivers what was queued', async () => {
    const a = channel(fake.current.url, { reconnect: slowRetry(100) });
    const b = channel(fake.current.url);
    await Promise.all([a.connect(), b.connect()]);
    a.setStatus({ displayName: 'Alice', buddyPicture: null, message: null });
    await a.hello({ room: 'r' });
    await b.hello({ room: 'r' });
    const idBefore = a.id;

    const left = next(b.documents$.pipe(ofType('Left')), undefined, 'Left');
    const reconnecting = entersState(a, 'reconnecting', 15_000);
    fake.current.drop(a.id!);
    await reconnecting;
    expect(a.state).toMatchObject({ status: 'reconnecting', attempt: 1, delayMs: 100 });
    expect((await left).doc).toMatchObject({ Id: idBefore, Status: 'hard' });

    const chats: string[] = [];
    b.documents$.pipe(ofType('Chat')).subscribe((c) => chats.push(c.doc.Chat.Message ?? ''));
    const joined = next(b.documents$.pipe(ofType('Joined')), undefined, 'Joined');
    const status = next(b.documents$.pipe(ofType('Status')), undefined, 'Status');
    const last = next(b.documents$.pipe(ofType('Chat')), (c) => c.doc.Chat.Message === 'm19', 'm19');
    for (let i = 0; i < 20; i++) a.send(frames.chat(i % 2 ? '' : b.id!, { Message: `m${i}`, NoEcho: true }));

    await entersState(a, 'joined', 15_000);
    expect(a.id).toBe(idBefore);
    expect((await joined).doc.Id).toBe(idBefore);
    expect((await status).doc).toMatchObject({ Id: idBefore, Status: { displayName: 'Alice' } });
    await last;
    expect(chats).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));

    // Order on the new socket: Hello, Status, then the queue (PROTOCOL-NOTES §2.7).
    const after = fake.current.received.filter((r) => r.id === idBefore).map((r) => r.type);
    const lastHello = after.lastIndexOf('Hello');
    expect(after.slice(lastHello, lastHello + 3)).toEqual(['Hello', 'Status', 'Chat']);
  });

  it('reconnects with ?t=<Token> after a dead connection (nothing received)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const urls: string[] = [];
    wss.on('connection', (socket, req) => {
      urls.push(req.url ?? '');
      socket.send(JSON.stringify({ Data: { Type: 'Self', Id: 'same', Sid: 's', Token: 'tok-1' } }));
      // then silence: no Alive echo
    });
    const c = channel(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, { aliveIdleMs: 20, deadAfterMs: 80 });
    await c.connect();
    const state = await next(c.state$, (s) => s.status === 'reconnecting');
    expect(state).toMatchObject({ reason: expect.stringMatching(/nothing received/) });
    await next(c.state$, (s) => s.status === 'connected');
    expect(urls[0]).toBe('/ws');
    expect(urls[1]).toBe('/ws?t=tok-1');
    await c.close();
    await new Promise((r) => wss.close(r));
  });

  it('throws queue_full when the offline queue is full, closed after close()', async () => {
    const c = channel(fake.current.url, { maxQueue: 3, reconnect: slowRetry(60_000) });
    await c.connect();
    fake.current.drop(c.id!);
    await entersState(c, 'reconnecting', 15_000);
    for (let i = 0; i < 3; i++) c.send(frames.chat('', { Message: String(i) }));
    let error: unknown;
    try {
      c.send(frames.chat('', { Message: 'overflow' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ code: 'queue_full' });
    expect(() => c.send(frames.hello({ Name: 'x' }))).toThrow(expect.objectContaining({ code: 'not_connected' }));
    await expect(c.request(frames.users())).rejects.toMatchObject({ code: 'queue_full' });
    await c.close();
    expect(() => c.send(frames.users())).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('hello() while reconnecting resolves with the rejoin Welcome', async () => {
    const c = channel(fake.current.url, { reconnect: slowRetry(50) });
    await c.connect();
    await c.hello({ room: 'one' });
    fake.current.drop(c.id!);
    await entersState(c, 'reconnecting', 15_000);
    const welcome = await c.hello({ room: 'two' });
    expect(welcome.Room.Name).toBe('two');
    expect(c.state).toMatchObject({ status: 'joined', room: { Name: 'two' } });
  });

  it('rejects an in-flight request with connection_lost when the socket drops', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (socket) => {
      socket.send(JSON.stringify({ Data: { Type: 'Self', Id: 'x', Sid: 's', Token: 't' } }));
      socket.on('message', () => socket.terminate());
    });
    const c = channel(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, { reconnect: slowRetry(60_000) });
    await c.connect();
    await expect(c.request(frames.users())).rejects.toMatchObject({ code: 'connection_lost' });
    await c.close();
    await new Promise((r) => wss.close(r));
  });

  it('gives up when the policy says so: connect() rejects with connect_failed, state closed', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as AddressInfo).port;
    await new Promise((r) => wss.close(r));
    const c = channel(`ws://127.0.0.1:${port}/ws`, { reconnect: linearBackoff({ maxAttempts: 2, stepMs: 10 }) });
    const attempts: number[] = [];
    c.state$.subscribe((s) => s.status === 'reconnecting' && attempts.push(s.attempt));
    await expect(c.connect()).rejects.toMatchObject({ code: 'connect_failed' });
    await entersState(c, 'closed', 15_000);
    expect(attempts).toEqual([1, 2]);
  });
});

describe('Channel: lifecycle edges', () => {
  it('close() while still connecting rejects connect() with closed', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r)); // accepts, never sends Self
    const c = channel(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`);
    const connecting = c.connect();
    await c.close();
    await expect(connecting).rejects.toMatchObject({ code: 'closed' });
    expect(c.state).toEqual({ status: 'closed', reason: 'closed by client' });
    await new Promise((r) => wss.close(r));
  });

  it('rejects a URL that is not ws:// or wss://', () => {
    expect(() => channel('http://127.0.0.1/ws')).toThrow(expect.objectContaining({ code: 'invalid_url' }));
    expect(() => channel('not a url')).toThrow(ChannelError);
  });
});

describe('linearBackoff', () => {
  it('is 0, then +500 ms per attempt, capped at 10 s, with bounded jitter', () => {
    const exact = linearBackoff({ jitter: 0 });
    expect([1, 2, 3, 21, 100].map((n) => exact.delay(n))).toEqual([0, 500, 1000, 10_000, 10_000]);
    const jittered = linearBackoff({ random: () => 0.999 });
    expect(jittered.delay(3)).toBeGreaterThan(1000);
    expect(jittered.delay(3)).toBeLessThanOrEqual(1200);
    expect(linearBackoff({ maxAttempts: 1 }).delay(2)).toBeUndefined();
  });
});
