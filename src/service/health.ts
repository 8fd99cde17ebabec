import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bot } from '../bot/bot.js';
import type { BotMetrics } from './metrics.js';

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** Listen address. @defaultValue `'127.0.0.1'` (loopback only) */
  host?: string;
  /** Port; 0 picks a free one. @defaultValue 9464 */
  port?: number;
  /** The bots whose readiness counts. */
  bots: () => readonly Bot[];
  /** Metrics served on `/metrics`. */
  metrics: BotMetrics;
}

/** A running health/metrics endpoint. */
export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * HTTP endpoint for operators: `/healthz` (the process is alive), `/readyz` (every bot is
 * connected and joined; 503 with the list of unready bots otherwise), `/metrics` (Prometheus).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const bots = options.bots();
      const unready = bots.filter((b) => !(b.state.status === 'running' && b.channel.state.status === 'joined')).map((b) => b.options.name);
      const ready = bots.length > 0 && unready.length === 0;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ready, bots: bots.map((b) => ({ name: b.options.name, state: b.state.status, channel: b.channel.state.status })), unready }) + '\n');
    } else if (path === '/metrics') {
      options.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
