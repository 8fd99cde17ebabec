import { afterAll, describe, expect, it } from 'vitest';
import { ofType } from '../../src/index.js';
import { FleetClient } from '../../src/fleet/index.js';
import { startServer } from '../../src/server/index.js';
import { noNatsServer } from '../helpers/env.js';
import { participant } from '../helpers/peers.js';
import { startNatsServer } from './nats-server.js';
import { startWorkerProcess } from './processes.js';
import { tmpdir } from 'node:os';

describe.skipIf(noNatsServer)('spreed-bot worker: SIGTERM while NATS is gone', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });

  it('stops its jobs here, says why in one line and exits instead of waiting for NATS forever', async () => {
    const nats = await startNatsServer();
    cleanup.push(() => nats.close());
    const server = await startServer({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const room = `fleet-drain-down-${Date.now()}`;
    const watcher = await participant(server.url, room, 'Watcher');
    cleanup.push(() => watcher.close());
    const left: string[] = [];
    watcher.documents$.pipe(ofType('Left')).subscribe((r) => left.push(r.from));
    const joined = new Map<string, string>();
    watcher.documents$.pipe(ofType('Joined', 'Status')).subscribe((r) => {
      const name = (r.doc.Status as { displayName?: string } | null | undefined)?.displayName;
      if (name) joined.set(name, r.from);
    });

    const worker = await startWorkerProcess('lonely', nats.url, tmpdir());
    cleanup.push(() => worker.kill('SIGKILL'));
    const client = await FleetClient.connect({ nats: nats.url });
    await client.submit({ name: 'Fleet Bot', server: server.url, room, plugins: ['commands'] });
    await expect.poll(() => joined.get('Fleet Bot'), { timeout: 60_000 }).toBeDefined();
    await client.close();

    await nats.close(); // NATS gone for good
    worker.kill('SIGTERM');
    const code = await worker.exited; // the test times out if the worker waits for NATS forever
    expect([0, 1]).toContain(code);
    if (code === 1) expect(worker.output()).toMatch(/drain could not reach NATS; stopping the jobs here/);
    // Its bot left the room (its recordings, had it any, were finalised by Bot.stop()).
    expect(left).toContain(joined.get('Fleet Bot'));
  }, 120_000);
});
