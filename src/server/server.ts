import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Connection } from './connection.js';
import { handleHttp } from './http.js';
import { Hub, type ServerStats } from './hub.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { Secrets } from './secrets.js';

/** A running embedded channeling server. */
export interface ChannelingServer {
  /** WebSocket endpoint, e.g. `ws://127.0.0.1:PORT/ws`. */
  readonly url: string;
  /** HTTP base URL, e.g. `http://127.0.0.1:PORT/` (config at `<httpUrl>api/v1/config`). */
  readonly httpUrl: string;
  readonly host: string;
  readonly port: number;
  /** Number of connected sessions. */
  readonly sessionCount: number;
  /** Room ids (`<type>:<name>`) with their member session ids, for tests. */
  rooms(): Map<string, string[]>;
  /** Frame counters. */
  readonly stats: Readonly<ServerStats>;
  /** Drops every client (no close handshake) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an embedded Spreed WebRTC channeling server that behaves like the real Go server
 * (PROTOCOL-NOTES): `<basePath>ws` for the Channeling API 1.4, plus the config endpoints.
 */
export async function startServer(options: ServerOptions = {}): Promise<ChannelingServer> {
  const resolved = resolveOptions(options);
  const hub = new Hub(resolved, new Secrets(), resolved.logger);
  const wss = new WebSocketServer({ noServer: true, maxPayload: resolved.maxFrameBytes, skipUTF8Validation: true });
  const http: Server = createServer((req, res) => handleHttp(resolved, hub.images, req, res));

  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== `${resolved.basePath}ws` || req.method !== 'GET') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        new Connection(hub, ws, url.searchParams.get('t') ?? undefined);
      } catch (error) {
        resolved.logger.warn({ err: error }, 'failed to set up connection');
        ws.terminate();
      }
    });
  });
  // Like the Go server: a 400 to anything that is not HTTP, so a TLS client hello shows up as
  // "wrong version number" at the client (use ws://), not as an unexplained reset.
  http.on('clientError', (_error, socket) => (socket.writable ? socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n') : socket.destroy()));

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(resolved.port, resolved.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  resolved.port = port;
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;

  return {
    url: `ws://${hostForUrl}:${port}${resolved.basePath}ws`,
    httpUrl: `http://${hostForUrl}:${port}${resolved.basePath}`,
    host: resolved.host,
    port,
    get sessionCount() {
      return hub.sessions.size;
    },
    rooms() {
      const out = new Map<string, string[]>();
      for (const room of hub.rooms.all()) out.set(room.id, [...room.members.keys()]);
      return out;
    },
    stats: hub.stats,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        hub.rooms.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
