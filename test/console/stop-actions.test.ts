import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { record } from '../../src/index.js';
import { BotMetrics, BotSupervisor, startHealthServer } from '../../src/service/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { testServer } from '../helpers/peers.js';
import { waitUntil } from '../helpers/poll.js';

const action = { method: 'POST', headers: { 'x-spreed-console': '1' } };

describe('console stop actions (as spreed-bot run wires them)', () => {
  it('stops a recording, then stops a supervised bot for good', async () => {
    const server = await testServer();
    const dir = await mkdtemp(join(tmpdir(), 'console-stop-'));
    const supervisor = new BotSupervisor([{ server: server.url, room: 'ops', name: 'Recorder', plugins: [record({ dir, autoStart: 'manual' })] }], {
      logger: silentLogger,
      retryMinMs: 10,
      retryMaxMs: 20,
    });
    const health = await startHealthServer({
      port: 0,
      metrics: new BotMetrics(),
      bots: () => supervisor.bots.flatMap((b) => (b.bot ? [b.bot] : [])),
      console: { recordingsDir: dir },
      stopBot: async (bot) => void (await supervisor.stopBot(bot)),
    });
    try {
      await supervisor.start();
      const bot = supervisor.bots[0]!.bot!;
      await bot.services.require('recorder').start();
      const live = async () => (await (await fetch(`${health.consoleUrl}api/live`)).json()) as { bots: { id: string; recording?: { status: string } }[] };
      const { id, recording } = (await live()).bots[0]!;
      expect(recording?.status).toBe('recording');

      expect((await fetch(`${health.consoleUrl}api/bots/${id}/stop-recording`, { method: 'POST' })).status).toBe(403); // no console header
      expect((await fetch(`${health.consoleUrl}api/bots/${id}/stop-recording`, action)).status).toBe(200);
      expect(bot.services.require('recorder').state.status).toBe('idle');
      expect((await live()).bots[0]!.recording).toBeUndefined();

      expect((await fetch(`${health.consoleUrl}api/bots/nope/stop`, action)).status).toBe(404);
      expect((await fetch(`${health.consoleUrl}api/bots/${id}/stop`, action)).status).toBe(200);
      expect(bot.state.status).toBe('stopped');
      // Not restarted by the supervisor (its retry delay is 10 ms): the same bot, stopped, one attempt.
      await waitUntil(() => supervisor.bots[0]!, (b) => !b.running, 1000, 'stopped entry');
      await new Promise((r) => setTimeout(r, 300));
      expect(supervisor.bots[0]).toMatchObject({ bot, attempts: 1, running: false });
    } finally {
      await supervisor.stop();
      await health.close();
      await server.close();
    }
  }, 60_000);
});
