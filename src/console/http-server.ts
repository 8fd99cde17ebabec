import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

/** A Hono app listening on a TCP port. */
export interface ListeningApp {
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
  /** Stops listening and drops open connections (event streams). Idempotent. */
  close(): Promise<void>;
}

/** Serves `app` on `host:port` through @hono/node-server; rejects when the port cannot be bound. */
export async function listen(app: Hono, host: string, port: number): Promise<ListeningApp> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
