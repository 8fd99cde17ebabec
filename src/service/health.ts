import { Hono } from 'hono';
import type { Bot } from '../bot/bot.js';
import { consoleRoutes, isLoopbackHost, LiveModel, listen, TOKEN_ENV, type ConsoleOptions } from '../console/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { BotMetrics } from './metrics.js';

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** Listen address. @defaultValue `'127.0.0.1'` (loopback only) */
  host?: string;
  /** Port; 0 picks a free one. @defaultValue 9464 */
  port?: number;
  /** The bots whose readiness counts (and the console's live view shows). */
  bots: () => readonly Bot[];
  /** Metrics served on `/metrics`. */
  metrics: BotMetrics;
  /**
   * The operator console on `/` (live view of the bots, meetings of the recordings directory), or
   * `false` for none. Off loopback it is served only with a {@link HealthServerOptions.token}.
   * @defaultValue `{}` (recordings in `'recordings'`)
   */
  console?: Omit<ConsoleOptions, 'live' | 'token'> | false;
  /** Console token (never logged). @defaultValue none: the console answers on loopback only */
  token?: string;
  /** Stops a bot for the console's stop button. @defaultValue `bot.stop()` */
  stopBot?: (bot: Bot) => Promise<void>;
  logger?: Logger;
}

/** A running health/metrics endpoint. */
export interface HealthServer {
  readonly url: string;
  /** The console page, when it is served. */
  readonly consoleUrl?: string;
  close(): Promise<void>;
}

/**
 * HTTP endpoint for operators: `/healthz` (the process is alive), `/readyz` (every bot is
 * connected and joined; 503 with the list of unready bots otherwise), `/metrics` (Prometheus),
 * and the operator console on `/` (see `src/console`).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const app = new Hono();
  const onlyGet = (path: string) => app.on(['POST', 'PUT', 'DELETE', 'PATCH'], path, (c) => c.body(null, 405));
  app.get('/healthz', (c) => c.text('ok\n'));
  onlyGet('/healthz');
  app.get('/readyz', (c) => {
    const bots = options.bots();
    const unready = bots.filter((b) => !(b.state.status === 'running' && b.channel.state.status === 'joined')).map((b) => b.options.name);
    const ready = bots.length > 0 && unready.length === 0;
    const body = { ready, bots: bots.map((b) => ({ name: b.options.name, state: b.state.status, channel: b.channel.state.status })), unready };
    return c.body(JSON.stringify(body) + '\n', ready ? 200 : 503, { 'content-type': 'application/json' });
  });
  onlyGet('/readyz');
  app.get('/metrics', async (c) => {
    try {
      return c.body(await options.metrics.text(), 200, { 'content-type': options.metrics.registry.contentType });
    } catch (error) {
      return c.text(String(error), 500);
    }
  });
  onlyGet('/metrics');

  let closeConsole: (() => void) | undefined;
  let live: LiveModel | undefined;
  const token = options.token;
  if (options.console !== false && !isLoopbackHost(host) && !token) {
    logger.warn({ host, env: TOKEN_ENV }, 'console not served: listening off loopback needs a console token');
  } else if (options.console !== false) {
    live = new LiveModel({ bots: options.bots, stopBot: options.stopBot });
    const routes = await consoleRoutes({ ...options.console, live, token, logger });
    closeConsole = routes.close;
    app.route('/', routes.app);
  }
  app.notFound((c) => c.text('not found: try /healthz, /readyz or /metrics\n', 404));

  const server = await listen(app, host, options.port ?? 9464);
  return {
    url: server.url,
    ...(closeConsole ? { consoleUrl: `${server.url}/` } : {}),
    close: async () => {
      closeConsole?.();
      live?.close();
      await server.close();
    },
  };
}
