import { describe, expect, it } from 'vitest';
import { Bot, frames, isBot, ofType, type Plugin } from '../../src/index.js';
import { echo } from '../../bots/echo.js';
import { greeter } from '../../bots/greeter.js';
import { next, participant, useTestServer } from '../helpers/peers.js';

const env = useTestServer();

async function startBot(name: string, plugins: Plugin<any>[], status?: Record<string, unknown>): Promise<Bot> {
  const bot = new Bot({ server: env.server.url, room: 'lobby', name, plugins, status });
  env.cleanup.push(() => bot.stop());
  await bot.start();
  return bot;
}

describe('bots do not answer bot traffic', () => {
  it('marks itself as a bot in its Status; `status: { bot: false }` turns that off', async () => {
    const marked = await startBot('Marked', []);
    const unmarked = await startBot('Unmarked', [], { bot: false });
    expect(marked.status).toMatchObject({ displayName: 'Marked', bot: true });
    expect(unmarked.status).toMatchObject({ displayName: 'Unmarked', bot: false });
    await expect.poll(() => isBot(unmarked.room.get(marked.channel.id!)), { timeout: 5000 }).toBe(true);
    expect(isBot(marked.room.get(unmarked.channel.id!))).toBe(false);
  });

  it('two echo bots and a greeter in one room answer the person only, never each other', async () => {
    const greeterBot = await startBot('Greeter', [greeter({ text: 'Welcome, {name}!' })]);
    const echoA = await startBot('EchoA', [echo]);
    const echoB = await startBot('EchoB', [echo]);
    const bots = new Set([greeterBot, echoA, echoB].map((b) => b.channel.id!));
    // Every message any bot says in the room, as a human client sees it.
    const alice = await participant(env.server.url, 'lobby', 'Alice');
    env.cleanup.push(() => alice.close());
    const said: string[] = [];
    const sub = alice.documents$.pipe(ofType('Chat')).subscribe((r) => {
      if (bots.has(r.from!) && r.doc.Chat.Message) said.push(`${r.doc.Chat.Message}`);
    });
    env.cleanup.push(() => sub.unsubscribe());
    await expect.poll(() => said, { timeout: 10_000 }).toContain('Welcome, Alice!');

    alice.send(frames.chat('', { Message: 'hello bots', NoEcho: true }));
    await expect.poll(() => said.filter((t) => t === 'Alice said: hello bots').length, { timeout: 10_000 }).toBe(2);
    // A private message gets a private echo from that bot only.
    const privateEcho = next(alice.documents$.pipe(ofType('Chat')), (r) => r.from === echoA.channel.id && r.doc.To === alice.id && !!r.doc.Chat.Message);
    alice.send(frames.chat(echoA.channel.id!, { Message: 'psst', NoEcho: true }));
    expect((await privateEcho).doc.Chat.Message).toBe('Alice said: psst');

    // Give a loop time to (wrongly) start, then check nothing echoed bot traffic.
    await new Promise((r) => setTimeout(r, 1500));
    expect(said.filter((t) => t !== 'Alice said: psst').sort()).toEqual(['Alice said: hello bots', 'Alice said: hello bots', 'Welcome, Alice!']);
    expect(said.some((t) => /said: (Welcome|\w+ said:)/.test(t))).toBe(false);
  });

  it('ctx.allChat$ still sees other bots (flagged fromBot) while ctx.chat$ does not', async () => {
    const seen: { via: string; text: string; fromBot: boolean }[] = [];
    const listener: Plugin = {
      name: 'listener',
      setup(ctx) {
        const a = ctx.chat$.subscribe((m) => seen.push({ via: 'chat$', text: m.text, fromBot: m.fromBot }));
        const b = ctx.allChat$.subscribe((m) => seen.push({ via: 'allChat$', text: m.text, fromBot: m.fromBot }));
        return () => {
          a.unsubscribe();
          b.unsubscribe();
        };
      },
    };
    await startBot('Listener', [listener]);
    const talker = await startBot('Talker', []);
    talker.chat.send('from a bot');
    const alice = await participant(env.server.url, 'lobby', 'Alice');
    env.cleanup.push(() => alice.close());
    alice.send(frames.chat('', { Message: 'from a person', NoEcho: true }));
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(3);
    expect(seen).toEqual(
      expect.arrayContaining([
        { via: 'allChat$', text: 'from a bot', fromBot: true },
        { via: 'allChat$', text: 'from a person', fromBot: false },
        { via: 'chat$', text: 'from a person', fromBot: false },
      ]),
    );
  });
});
