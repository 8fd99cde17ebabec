import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frames, ofType, type Channel } from '../../src/index.js';
import { next, participant, testServer } from '../helpers/peers.js';
import { waitUntil } from '../helpers/poll.js';

/*
 * Faults in plugin code (async subscribers, timers, commands) run in a child process: vitest fails
 * a run on any unhandled rejection or uncaught exception in its own process, and what is under
 * test is exactly that such errors do not take the process down.
 */

interface LogLine {
  level: number;
  msg: string;
  plugin?: string;
  origin?: string;
  err?: { message?: string };
}

const fixture = join(import.meta.dirname, 'fixtures/faulty-plugins.ts');
const ROOM = 'faults';

describe('plugin faults are isolated and attributed (child process with a real bot)', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let alice: Channel;
  let child: ChildProcess;
  const logs: LogLine[] = [];
  let botId = '';

  beforeAll(async () => {
    server = await testServer();
    alice = await participant(server.url, ROOM, 'Alice');
    const joined = next(alice.documents$.pipe(ofType('Joined')), (r) => (r.doc.Status as { displayName?: string } | null)?.displayName === 'Faulty', 120_000);
    child = spawn(process.execPath, ['--import', 'tsx', fixture, server.url, ROOM], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
    });
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    botId = (await joined).from!;
    await waitUntil(() => logs.some((l) => l.msg === 'ready'), (ready) => ready, 60_000, 'the bot to start');
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await alice?.close();
    await server?.close();
  });

  /** Says `text` in the room and resolves with the bot's next reply whose text passes `match`. */
  async function say(text: string, match: (reply: string) => boolean = (reply) => reply === `echo: ${text}`): Promise<string> {
    const reply = next(alice.documents$.pipe(ofType('Chat')), (r) => r.from === botId && !!r.doc.Chat.Message && match(r.doc.Chat.Message), 20_000);
    alice.send(frames.chat('', { Message: text, NoEcho: true }));
    return (await reply).doc.Chat.Message!;
  }

  const fault = (plugin: string, message: string) => () =>
    logs.find((l) => l.plugin === plugin && l.err?.message === message);

  it('an async chat subscriber that throws is logged with the plugin name; the bot keeps answering', async () => {
    await say('async');
    await expect.poll(fault('asyncThrower', 'async boom'), { timeout: 10_000 }).toMatchObject({ level: 50, origin: 'rejection' });
    expect(child.exitCode).toBeNull();
    await say('after async');
  });

  it('a throw in a setTimeout or setInterval the plugin started is logged with its name', async () => {
    await say('timeout');
    await expect.poll(fault('timerThrower', 'timeout boom'), { timeout: 10_000 }).toMatchObject({ level: 50, origin: 'exception' });
    await say('interval');
    await expect.poll(fault('timerThrower', 'interval boom'), { timeout: 10_000 }).toMatchObject({ level: 50, origin: 'exception' });
    expect(child.exitCode).toBeNull();
    await say('after timers');
  });

  it('a rejected command is answered and logged with the plugin that registered it; a floating rejection too', async () => {
    expect(await say('!fail', (reply) => reply.startsWith('!fail'))).toBe('!fail failed: command boom');
    await expect.poll(fault('commander', 'command boom'), { timeout: 10_000 }).toMatchObject({ level: 40 });
    expect(await say('!floating', (reply) => reply === 'started')).toBe('started');
    await expect.poll(fault('commander', 'floating boom'), { timeout: 10_000 }).toMatchObject({ level: 50, origin: 'rejection' });
    await say('after commands');
  });

  it('an error outside any plugin is logged as such and the process keeps running', async () => {
    child.kill('SIGUSR2');
    await expect
      .poll(() => logs.find((l) => l.err?.message === 'outside boom'), { timeout: 10_000 })
      .toMatchObject({ level: 50, msg: 'uncaught exception outside any plugin; the bots keep running' });
    expect(logs.find((l) => l.err?.message === 'outside boom')?.plugin).toBeUndefined();
    await say('after outside');
  });

  it('5 faults within a minute disable the plugin: its commands go, its stop hook runs, the rest keeps working', async () => {
    expect(await say('!help', (reply) => reply.includes('!help'))).toContain('!flaky');
    for (let i = 0; i < 5; i++) await say('flaky');
    await expect
      .poll(() => logs.find((l) => l.plugin === 'flaky' && l.msg.startsWith('plugin disabled')), { timeout: 10_000 })
      .toMatchObject({ level: 50, msg: 'plugin disabled after 5 faults in 60 s' });
    await expect.poll(() => logs.some((l) => l.plugin === 'flaky' && l.msg === 'flaky stop hook ran'), { timeout: 10_000 }).toBe(true);
    const help = await say('!help', (reply) => reply.includes('!help'));
    expect(help).not.toContain('!flaky');
    expect(help).toContain('!fail');
    // flaky's chat$ has ended: it would reply before echo (it subscribed first) if it still listened.
    const replies: string[] = [];
    const sub = alice.documents$.pipe(ofType('Chat')).subscribe((r) => {
      if (r.from === botId && r.doc.Chat.Message) replies.push(r.doc.Chat.Message);
    });
    await say('flaky?');
    sub.unsubscribe();
    expect(replies).toEqual(['echo: flaky?']);
    expect(logs.filter((l) => l.plugin === 'flaky' && l.err?.message === 'flaky boom')).toHaveLength(5);
    expect(child.exitCode).toBeNull();
  });

  it('stops cleanly on SIGTERM after all that', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
