import { createServer as createHttpServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { entersState, type Channel, type ChannelState } from '../../src/channel/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { captureLogger } from '../files/helpers.js';
import { channel, closeAll, freePort, next } from './helpers.js';

type Reconnecting = Extract<ChannelState, { status: 'reconnecting' }>;
type LogLine = ReturnType<typeof captureLogger>['lines'][number];

const WARN = 40;
const quickRetry = { delay: () => 20 };
const cleanup: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await closeAll();
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function embeddedServer(port = 0): Promise<ChannelingServer> {
  const server = await startServer({ port });
  cleanup.push(() => server.close());
  return server;
}

/** A plain HTTP server (no WebSocket) answering 404 to everything, like a web server at the wrong port. */
async function notFoundServer(port: number): Promise<Server> {
  const server = createHttpServer((_request, response) => response.writeHead(404).end('404 page not found'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Collects the channel's reconnecting states. */
function failures(c: Channel): Reconnecting[] {
  const seen: Reconnecting[] = [];
  c.state$.subscribe((s) => s.status === 'reconnecting' && seen.push(s));
  return seen;
}

/** Waits until `count` failed attempts, then returns the warn lines. */
async function afterAttempts(c: Channel, count: number, lines: LogLine[]): Promise<LogLine[]> {
  void c.connect();
  await next(c.state$, (s) => s.status === 'reconnecting' && s.attempt >= count, `attempt ${count}`);
  return lines.filter((l) => l.level === WARN);
}

describe('Channel: why a connection fails', () => {
  it('a refused port: ECONNREFUSED in state$, "could not connect" with the URL and next retry at warn once, repeats at debug', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const { logger, lines } = captureLogger();
    const c = channel(url, { logger, reconnect: quickRetry });
    const seen = failures(c);
    const before = Date.now();
    const warns = await afterAttempts(c, 4, lines);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const state of seen) {
      expect(state).toMatchObject({ failure: 'connect', delayMs: 20, cause: { kind: 'refused', code: 'ECONNREFUSED', permanent: false } });
      expect(state.reason).toBe(state.cause.message);
      expect(state.nextRetryAt).toBeGreaterThanOrEqual(before + state.delayMs);
    }
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ url, failure: 'connect', cause: 'ECONNREFUSED', attempt: 1, delayMs: 20 });
    expect(warns[0]!.msg).toMatch(
      /^channel: could not connect to ws:\/\/127\.0\.0\.1:\d+\/ws: connection refused \(connect ECONNREFUSED 127\.0\.0\.1:\d+\): is the server running on that port\?; retrying in 20 ms \(at \d\d:\d\d:\d\d\)$/,
    );
    expect(lines.filter((l) => l.msg.startsWith('channel: could not connect')).length).toBeGreaterThanOrEqual(4);
    expect(lines.some((l) => /lost/.test(l.msg))).toBe(false);
  });

  it('HTTP 404 on the upgrade (the server at a wrong path): retried with one warn; with failFast, connect() rejects naming URL and status', async () => {
    const server = await embeddedServer();
    const url = server.url.replace(/\/ws$/, '/wrong');
    const { logger, lines } = captureLogger();
    const c = channel(url, { logger, reconnect: quickRetry });
    const seen = failures(c);
    const warns = await afterAttempts(c, 3, lines);
    expect(seen.every((s) => s.cause.code === 'HTTP 404' && s.cause.kind === 'http' && s.cause.permanent)).toBe(true);
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain(`could not connect to ${url}: HTTP 404 Not Found on the WebSocket upgrade: wrong path`);

    const failFast = channel(url, { logger, reconnect: quickRetry });
    const error = await failFast.connect({ failFast: true }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ChannelError', code: 'connect_failed', cause: { code: 'HTTP 404' } });
    expect((error as Error).message).toMatch(new RegExp(`^could not connect to ${url}: HTTP 404 Not Found`));
    expect(failFast.state).toMatchObject({ status: 'closed' });
    // The rejection is the report: the give-up itself is not another warn line.
    expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
  });

  it('an unknown host: ENOTFOUND, permanent, so failFast rejects at once', async () => {
    const url = 'ws://nonexistent.invalid/ws';
    const { logger, lines } = captureLogger();
    const c = channel(url, { logger, reconnect: quickRetry });
    const seen = failures(c);
    const warns = await afterAttempts(c, 3, lines);
    expect(seen[0]).toMatchObject({ failure: 'connect', cause: { kind: 'dns', code: 'ENOTFOUND', permanent: true } });
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain('could not connect to ws://nonexistent.invalid/ws: unknown host (getaddrinfo ENOTFOUND nonexistent.invalid)');
    await expect(channel(url, { reconnect: quickRetry }).connect({ failFast: true })).rejects.toMatchObject({ code: 'connect_failed', cause: { code: 'ENOTFOUND' } });
  });

  it('a wss:// URL for a plain server: a TLS cause that says to use ws://', async () => {
    const server = await embeddedServer();
    const url = server.url.replace(/^ws:/, 'wss:');
    const { logger, lines } = captureLogger();
    const c = channel(url, { logger, reconnect: quickRetry });
    const seen = failures(c);
    const warns = await afterAttempts(c, 3, lines);
    expect(seen[0]).toMatchObject({ cause: { kind: 'tls', code: 'EPROTO', permanent: true } });
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain(`could not connect to ${url}: TLS handshake failed (EPROTO: wrong version number): the server does not speak TLS on this port; use ws:// instead of wss://`);
  });

  it('logs once per change of cause: refused → 404 → connected → lost → could not reconnect', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/ws`;
    const { logger, lines } = captureLogger();
    const c = channel(url, { logger, reconnect: quickRetry });
    const seen = failures(c);
    const reached = (code: string) => next(c.state$, (s) => s.status === 'reconnecting' && s.cause.code === code && s.attempt >= 2, code);
    void c.connect();
    await reached('ECONNREFUSED');
    const http = await notFoundServer(port);
    await reached('HTTP 404');
    await closeHttp(http);
    const server = await startServer({ port });
    await entersState(c, 'connected', 15_000);
    await server.close();
    await next(c.state$, (s) => s.status === 'reconnecting' && s.failure === 'reconnect' && s.cause.code === 'ECONNREFUSED' && s.attempt >= 2, 'reconnect refused');

    expect(seen.find((s) => s.failure === 'lost')).toMatchObject({ attempt: 1, cause: { kind: 'closed' } });
    const warns = lines.filter((l) => l.level === WARN).map((l) => [l.failure, l.cause]);
    expect(warns).toEqual([
      ['connect', 'ECONNREFUSED'],
      ['connect', 'HTTP 404'],
      ['lost', seen.find((s) => s.failure === 'lost')!.cause.code],
      ['reconnect', 'ECONNREFUSED'],
    ]);
    expect(lines.filter((l) => l.level === WARN)[2]!.msg).toMatch(new RegExp(`^channel: lost the connection to ${url}: socket closed \\(\\d+`));
    const recovered = lines.filter((l) => l.msg.startsWith('channel: connected to'));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.msg).toMatch(/^channel: connected to ws:\/\/127\.0\.0\.1:\d+\/ws after \d+ connection failures$/);
  });

  it('connect({timeoutMs}) gives up with the last cause and closes the channel', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const c = channel(url, { reconnect: quickRetry });
    const error = await c.connect({ timeoutMs: 300 }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'connect_failed', cause: { code: 'ECONNREFUSED' } });
    expect((error as Error).message).toMatch(new RegExp(`^could not connect to ${url} within 300 ms: connection refused`));
    await entersState(c, 'closed', 15_000);
  });
});
