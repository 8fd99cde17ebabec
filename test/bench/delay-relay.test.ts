import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DelayRelayProcess } from '../../bench/fixtures/delay-relay-process.js';
import { DelayRelay, type UdpAddress } from '../../bench/fixtures/delay-relay.js';

interface Arrival {
  data: Buffer;
  from: UdpAddress;
  at: number;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A UDP socket on 127.0.0.1 that records what it receives; closed after the test. */
async function endpoint(): Promise<{ socket: Socket; address: UdpAddress; received: Arrival[]; waitFor(n: number): Promise<void>; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024); // the relay shares this process: a flush arrives in one go
  const received: Arrival[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data, from) => {
    received.push({ data, from: { address: from.address, port: from.port }, at: performance.now() });
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (n: number): Promise<void> => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const close = (): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));
  cleanups.push(close);
  return { socket, address: { address: '127.0.0.1', port: socket.address().port }, received, waitFor, close };
}

/** A relay closed after the test. */
async function openRelay(delayMs: number): Promise<DelayRelay> {
  const relay = await DelayRelay.open({ delayMs });
  cleanups.push(() => relay.close());
  return relay;
}

/** A relay and two endpoints X and Y, all closed after the test. */
async function relayBetweenTwo(delayMs: number) {
  return { relay: await openRelay(delayMs), x: await endpoint(), y: await endpoint() };
}

/** Sends and resolves, once sent, with the time taken just before sending (nothing arrives earlier). */
function send(socket: Socket, data: Buffer, to: UdpAddress): Promise<number> {
  const before = performance.now();
  return new Promise((resolve, reject) => socket.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve(before))));
}

/** Resolves when a socket can bind the port again, i.e. the relay released it. */
function canBind(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

describe('DelayRelay', () => {
  it('forwards both ways, in order, byte for byte, never before the delay, from the addresses the peers were told', async () => {
    const delayMs = 30;
    const { relay, x, y } = await relayBetweenTwo(delayMs);
    relay.setPeers({ peerA: x.address, peerB: y.address });

    // Bursts in both directions at once, of different sizes: empty, tiny, MTU-sized, and a full
    // UDP payload first and last.
    const sizes = [1, 1200, 0, 500, 9000, 1472];
    const count = 300;
    const xToY = Array.from({ length: count }, (_, i) => {
      const data = Buffer.alloc(i === 0 || i === count - 1 ? 65_507 : sizes[i % sizes.length]!, i & 0xff);
      if (data.length >= 2) data.writeUInt16BE(i);
      return data;
    });
    const yToX = Array.from({ length: count }, (_, i) => Buffer.from(`y${i}-${'#'.repeat(i % 50)}`));
    const sentXAt: number[] = [];
    const sentYAt: number[] = [];
    await Promise.all([
      (async () => {
        for (const data of xToY) sentXAt.push(await send(x.socket, data, relay.a));
      })(),
      (async () => {
        for (const data of yToX) sentYAt.push(await send(y.socket, data, relay.b));
      })(),
    ]);
    await Promise.all([y.waitFor(count), x.waitFor(count)]);

    const base64 = (data: Buffer): string => data.toString('base64'); // a cheap byte-for-byte compare
    expect(y.received.map((r) => base64(r.data))).toEqual(xToY.map(base64));
    expect(x.received.map((r) => base64(r.data))).toEqual(yToX.map(base64));
    // Each peer sees its partner at the relay socket named in its remote SDP.
    expect(new Set(y.received.map((r) => `${r.from.address}:${r.from.port}`))).toEqual(new Set([`${relay.b.address}:${relay.b.port}`]));
    expect(new Set(x.received.map((r) => `${r.from.address}:${r.from.port}`))).toEqual(new Set([`${relay.a.address}:${relay.a.port}`]));
    // A lower bound only: a busy machine may deliver late, never early.
    y.received.forEach((r, i) => expect(r.at - sentXAt[i]!).toBeGreaterThanOrEqual(delayMs));
    x.received.forEach((r, i) => expect(r.at - sentYAt[i]!).toBeGreaterThanOrEqual(delayMs));

    await new Promise((resolve) => setTimeout(resolve, 20)); // send callbacks trail the datagrams
    const stats = relay.stats();
    expect(stats.aToB).toEqual({ datagrams: count, bytes: xToY.reduce((n, b) => n + b.length, 0), dropped: 0 });
    expect(stats.bToA).toEqual({ datagrams: count, bytes: yToX.reduce((n, b) => n + b.length, 0), dropped: 0 });
  });

  it('falls back to the last source while a peer address is unknown, and drops what has nowhere to go', async () => {
    const { relay, x, y } = await relayBetweenTwo(5);
    await send(x.socket, Buffer.from('nobody to send this to'), relay.a); // Y unknown: dropped
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(relay.stats().aToB.dropped).toBe(1);

    await send(y.socket, Buffer.from('hello from y'), relay.b); // X was learnt from its datagram
    await x.waitFor(1);
    expect(x.received[0]!.data.toString()).toBe('hello from y');
    await send(x.socket, Buffer.from('hello from x'), relay.a); // and now Y is known too
    await y.waitFor(1);
    expect(y.received[0]!.data.toString()).toBe('hello from x');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(relay.stats()).toMatchObject({ aToB: { datagrams: 1, dropped: 1 }, bToA: { datagrams: 1, dropped: 0 } });
  });

  it('prefers the addresses it was given over the last source seen', async () => {
    const relay = await openRelay(5);
    const x = await endpoint();
    const xOther = await endpoint(); // like werift's second host candidate: same host, other port
    const y = await endpoint();
    relay.setPeers({ peerA: x.address, peerB: y.address });
    await send(xOther.socket, Buffer.from('check from the other candidate'), relay.a);
    await y.waitFor(1);
    await send(y.socket, Buffer.from('reply'), relay.b);
    await x.waitFor(1);
    expect(x.received[0]!.data.toString()).toBe('reply');
    expect(xOther.received).toEqual([]);
  });

  it('close() drops what is queued, releases both ports, and is idempotent', async () => {
    const relay = await DelayRelay.open({ delayMs: 10_000 });
    const x = await endpoint();
    relay.setPeers({ peerA: x.address, peerB: x.address });
    await send(x.socket, Buffer.from('held'), relay.a);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { a, b } = relay;
    await Promise.all([relay.close(), relay.close()]);
    await relay.close();
    expect(relay.stats().aToB).toEqual({ datagrams: 0, bytes: 0, dropped: 1 });
    expect(await canBind(a.port)).toBe(true);
    expect(await canBind(b.port)).toBe(true);
  });
});

describe('DelayRelayProcess', () => {
  it('runs relay pairs in a child process and sums their counters, closed pairs included', async () => {
    const relays = await DelayRelayProcess.start();
    cleanups.push(() => relays.close());
    const x = await endpoint();
    const y = await endpoint();
    const pair = await relays.open(20);
    await pair.setPeers({ peerA: x.address, peerB: y.address });
    const sentAt = await send(x.socket, Buffer.from('ping'), pair.a);
    await y.waitFor(1);
    expect(y.received[0]!.at - sentAt).toBeGreaterThanOrEqual(20);
    await send(y.socket, Buffer.from('pong'), pair.b);
    await x.waitFor(1);
    expect(x.received[0]!.data.toString()).toBe('pong');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await pair.stats()).aToB.datagrams).toBe(1);
    await pair.close();
    await pair.close();
    expect(await canBind(pair.a.port)).toBe(true);
    const totals = await relays.totals();
    expect(totals.aToB).toEqual({ datagrams: 1, bytes: 4, dropped: 0 });
    expect(totals.bToA).toEqual({ datagrams: 1, bytes: 4, dropped: 0 });
    await relays.close();
    await relays.close();
  });
});
