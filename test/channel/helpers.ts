import { firstValueFrom, filter, throwError, timeout, type Observable } from 'rxjs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { Channel, type ChannelOptions } from '../../src/channel/index.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

/** Channels created by a test, closed in afterEach. */
export const openChannels = new Set<Channel>();

export function channel(url: string, options: Partial<ChannelOptions> = {}): Channel {
  const c = new Channel({ url, requestTimeoutMs: 3000, ...options });
  openChannels.add(c);
  return c;
}

export async function closeAll(): Promise<void> {
  await Promise.all([...openChannels].map((c) => c.close()));
  openChannels.clear();
}

/** The first value of `source` matching `predicate`, failing after `ms` (a hang guard, not a timing assertion). */
export function next<T>(source: Observable<T>, predicate: (value: T) => boolean = () => true, label = 'value', ms = 15_000): Promise<T> {
  const where = new Error(`no ${label} within ${ms} ms`);
  return firstValueFrom(source.pipe(filter(predicate), timeout({ first: ms, with: () => throwError(() => where) })));
}

/** Two connected channels in the same room (`b` joined last). */
export async function pairInRoom(url: string, room: string, options: { a?: Partial<ChannelOptions>; b?: Partial<ChannelOptions> } = {}): Promise<[Channel, Channel]> {
  const a = channel(url, options.a);
  const b = channel(url, options.b);
  await Promise.all([a.connect(), b.connect()]);
  await a.hello({ room });
  await b.hello({ room });
  return [a, b];
}

/** A fresh scripted server per test (closed with the test's channels); read `.current` inside tests. */
export function useFakeServer(options?: Parameters<typeof startFakeServer>[0]): { current: FakeServer } {
  const holder = {} as { current: FakeServer };
  beforeEach(async () => {
    holder.current = await startFakeServer(options);
  });
  afterEach(async () => {
    await closeAll();
    await holder.current.close();
  });
  return holder;
}

/** A loopback port with nothing listening (connections to it are refused). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
