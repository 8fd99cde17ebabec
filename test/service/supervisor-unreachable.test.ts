import { describe, expect, it } from 'vitest';
import { BotSupervisor } from '../../src/service/supervisor.js';
import { startServer } from '../../src/server/index.js';
import { freePort, next } from '../channel/helpers.js';
import { captureLogger } from '../files/helpers.js';

const WARN = 40;

describe('BotSupervisor and an unreachable server', () => {
  it('keeps one bot whose channel retries a refused port past the bot start timeout, with one warn line naming URL and cause', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const { logger, lines } = captureLogger();
    const supervisor = new BotSupervisor([{ server: url, room: 'lobby', name: 'Patient' }], { logger });
    try {
      const startedAt = Date.now();
      void supervisor.start();
      const bot = supervisor.bots[0]!.bot!;
      // Still the first start, still retrying, after a script's start would have given up (10 s).
      const beyond = (s: { nextRetryAt: number; delayMs: number }) => s.nextRetryAt - s.delayMs > startedAt + 10_500;
      await next(bot.channel.state$, (s) => s.status === 'reconnecting' && beyond(s), 'a retry after 10 s', 40_000);
      expect(supervisor.bots[0]).toMatchObject({ attempts: 1, running: false });
      const warns = lines.filter((l) => l.level === WARN);
      expect(warns.map((l) => l.msg)).toEqual([expect.stringMatching(new RegExp(`^channel: could not connect to ${url}: connection refused`))]);
    } finally {
      await supervisor.stop();
    }
  });

  it('a permanent cause (HTTP 404 at a wrong path) fails the start and is retried by the supervisor', async () => {
    const server = await startServer();
    const url = server.url.replace(/\/ws$/, '/wrong/ws');
    const { logger, lines } = captureLogger();
    const supervisor = new BotSupervisor([{ server: url, room: 'lobby', name: 'Lost' }], { logger, retryMinMs: 10, retryMaxMs: 20 });
    try {
      void supervisor.start();
      await expect.poll(() => supervisor.bots[0]!.attempts, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
      expect(supervisor.bots[0]!.lastError).toMatchObject({ code: 'connect_failed', cause: { code: 'HTTP 404' } });
      // One line per change of cause: the supervisor's; the channels' give-ups went to debug.
      expect(lines.filter((l) => l.level === WARN).map((l) => l.msg)).toEqual(['bot failed to start; will retry']);
    } finally {
      await supervisor.stop();
      await server.close();
    }
  });
});
