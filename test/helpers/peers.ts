import { afterEach, beforeEach } from 'vitest';
import { filter, firstValueFrom, timeout, type Observable } from 'rxjs';
import { Channel } from '../../src/channel/index.js';
import { startServer } from '../../src/server/index.js';

/** Starts an embedded server on a random loopback port. */
export async function testServer(options: Parameters<typeof startServer>[0] = {}) {
  return startServer({ host: '127.0.0.1', port: 0, ...options });
}

/** A connected channel that has joined `room` with a display name. */
export async function participant(url: string, room: string, name: string, pin?: string): Promise<Channel> {
  const channel = new Channel({ url });
  await channel.connect();
  channel.setStatus({ displayName: name, buddyPicture: null, message: null });
  await channel.hello({ room, pin });
  return channel;
}

/** First value matching `predicate` within `ms`. */
export function next<T>(source: Observable<T>, predicate: (v: T) => boolean = () => true, ms = 5000): Promise<T> {
  return firstValueFrom(source.pipe(filter(predicate), timeout(ms)));
}

/**
 * Per-test embedded server plus a cleanup list run in reverse after each test.
 * Call at the top of a `describe` file: `const env = useTestServer();` then `env.server.url`.
 */
export function useTestServer(): { readonly server: Awaited<ReturnType<typeof testServer>>; cleanup: (() => Promise<unknown> | void)[] } {
  const state = { server: undefined as unknown as Awaited<ReturnType<typeof testServer>>, cleanup: [] as (() => Promise<unknown> | void)[] };
  beforeEach(async () => {
    state.server = await testServer();
  });
  afterEach(async () => {
    for (const fn of state.cleanup.splice(0).reverse()) await fn();
    await state.server.close();
  });
  return state;
}
