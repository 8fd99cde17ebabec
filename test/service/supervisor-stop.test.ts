/**
 * Issue 13 item 2 at the supervisor: stop() ends bots that are still starting (a server that is
 * unreachable keeps the first start open), quietly and for good.
 */
import { describe, expect, it } from 'vitest';
import { BotSupervisor } from '../../src/service/supervisor.js';
import { freePort, next } from '../channel/helpers.js';
import { captureLogger } from '../files/helpers.js';
import { testServer } from '../helpers/peers.js';

describe('BotSupervisor.stop()', () => {
  it('abandons a start that is still retrying an unreachable server, and start() settles', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const { logger, lines } = captureLogger();
    const supervisor = new BotSupervisor([{ server: url, room: 'lobby', name: 'Patient' }], { logger, retryMinMs: 10, retryMaxMs: 20 });
    const started = supervisor.start();
    const bot = supervisor.bots[0]!.bot!;
    await next(bot.channel.state$, (s) => s.status === 'reconnecting', 'a reconnect', 20_000);
    await supervisor.stop();
    await started;
    expect(bot.channel.state.status).toBe('closed');
    // No retry after the stop (retryMinMs is 10 ms) and no failure reported for the abandoned start.
    await new Promise((r) => setTimeout(r, 200));
    expect(supervisor.bots[0]).toMatchObject({ attempts: 1, running: false });
    expect(lines.filter((l) => l.msg.startsWith('bot failed to start'))).toEqual([]);
  });

  it('stops a started bot and one still starting together', async () => {
    const server = await testServer();
    const dead = `ws://127.0.0.1:${await freePort()}/ws`;
    const { logger } = captureLogger();
    const supervisor = new BotSupervisor(
      [
        { server: server.url, room: 'lobby', name: 'Good' },
        { server: dead, room: 'lobby', name: 'Unreachable' },
      ],
      { logger },
    );
    try {
      const started = supervisor.start();
      await expect.poll(() => supervisor.bots[0]!.running, { timeout: 20_000 }).toBe(true);
      const [good, unreachable] = supervisor.bots.map((b) => b.bot!);
      await supervisor.stop();
      await started;
      expect(good!.state.status).toBe('stopped');
      expect(unreachable!.channel.state.status).toBe('closed');
    } finally {
      await server.close();
    }
  });
});
