import { describe, expect, it } from 'vitest';
import { Bot, ofType, type Plugin } from '../../src/index.js';
import type { Channel } from '../../src/channel/index.js';
import { next, participant, useTestServer } from '../helpers/peers.js';

const env = useTestServer();
const cleanup = env.cleanup;

async function startBot(plugins: Plugin<any>[], extra: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const bot = new Bot({ server: env.server.url, room: 'lobby', name: 'TestBot', plugins, ...extra });
  cleanup.push(() => bot.stop());
  await bot.start();
  return bot;
}

async function human(name = 'Alice'): Promise<Channel> {
  const channel = await participant(env.server.url, 'lobby', name);
  cleanup.push(() => channel.close());
  return channel;
}

describe('Bot lifecycle and plugins', () => {
  it('sets plugins up after joining and tears them down in reverse order on stop', async () => {
    const events: string[] = [];
    const mk = (name: string): Plugin => ({
      name,
      setup(ctx) {
        events.push(`setup ${name} joined=${ctx.bot.id !== ''}`);
        return () => void events.push(`teardown ${name}`);
      },
    });
    const bot = await startBot([mk('a'), mk('b')]);
    expect(bot.state.status).toBe('running');
    await bot.stop();
    await bot.stop(); // idempotent
    expect(events).toEqual(['setup a joined=true', 'setup b joined=true', 'teardown b', 'teardown a']);
    expect(bot.state.status).toBe('stopped');
  });

  it('publishes its display name with Status so others see it', async () => {
    const alice = await human();
    const status$ = alice.documents$.pipe(ofType('Status', 'Joined'));
    const seen = next(status$, (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === 'TestBot');
    await startBot([]);
    await expect(seen).resolves.toBeTruthy();
  });

  it('isolates a plugin whose subscriber throws and one whose setup throws; others keep working', async () => {
    const received: string[] = [];
    const thrower: Plugin = {
      name: 'thrower',
      setup: (ctx) =>
        ctx.chat$.subscribe(() => {
          throw new Error('boom');
        }),
    };
    const brokenSetup: Plugin = {
      name: 'broken',
      setup() {
        throw new Error('cannot set up');
      },
    };
    const healthy: Plugin = { name: 'healthy', setup: (ctx) => ctx.chat$.subscribe((m) => received.push(m.text)) };
    const bot = await startBot([thrower, brokenSetup, healthy]);
    const alice = await human();
    alice.send({ Type: 'Chat', Chat: { To: '', Type: 'Chat', Chat: { Message: 'one', NoEcho: true } } });
    alice.send({ Type: 'Chat', Chat: { To: '', Type: 'Chat', Chat: { Message: 'two', NoEcho: true } } });
    await expect.poll(() => received, { timeout: 5000 }).toEqual(['one', 'two']);
    await expect.poll(() => bot.pluginErrors.get('thrower'), { timeout: 5000 }).toBe(2);
    expect(bot.pluginErrors.get('broken')).toBe(1);
    expect(bot.state.status).toBe('running');
  });

  it('fails start with the server error code on a wrong PIN', async () => {
    const owner = await participant(env.server.url, 'secret', 'Owner', '1234');
    cleanup.push(() => owner.close());
    const bot = new Bot({ server: env.server.url, room: 'secret', pin: 'nope', name: 'B' });
    await expect(bot.start()).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(bot.state.status).toBe('failed');
  });

  it('runs stop hooks (finalisers) before teardown', async () => {
    const events: string[] = [];
    const plugin: Plugin = {
      name: 'finaliser',
      setup(ctx) {
        ctx.onStop(async () => {
          await new Promise((r) => setTimeout(r, 50));
          events.push('finalised');
        });
        return () => void events.push('teardown');
      },
    };
    const bot = await startBot([plugin]);
    await bot.stop();
    expect(events).toEqual(['finalised', 'teardown']);
  });

  it('runs several bots in one process independently', async () => {
    const a = await startBot([], { name: 'A' });
    const b = await startBot([], { name: 'B', room: 'other' });
    expect(a.channel.id).not.toBe(b.channel.id);
    await a.stop();
    expect(b.state.status).toBe('running');
    expect(b.channel.state.status).toBe('joined');
  });
});
