import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, ensureCalls, frames, ofType, record, type Plugin } from '../../src/index.js';
import { OnceReporter } from '../../src/bot/plugins/once-reporter.js';
import { next, participant, testServer } from '../helpers/peers.js';

interface LogLine {
  level: number;
  msg: string;
  plugin?: string;
  err?: { message?: string; code?: string };
}

let server: Awaited<ReturnType<typeof testServer>>;
const cleanup: (() => Promise<unknown> | void)[] = [];
beforeEach(async () => {
  server = await testServer();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await server.close();
});

const callsHandle: Plugin = { name: 'calls-handle', setup: (ctx) => void ensureCalls(ctx) };

describe('record: a recordings dir that becomes unusable after start', () => {
  it('is reported once (not per call), the bot stays up and keeps answering', async () => {
    const root = await mkdtemp(join(tmpdir(), 'spreed-rec-gone-'));
    const dir = join(root, 'recordings');
    const logs: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const echo: Plugin = { name: 'echo', setup: (ctx) => ctx.chat$.subscribe((m) => ctx.chat.reply(m, `echo: ${m.text}`)) };
    const recorder = new Bot({ server: server.url, room: 'rec', name: 'Recorder', logger, plugins: [autoAnswer(), record({ dir }), echo] });
    cleanup.push(() => recorder.stop());
    await recorder.start(); // preflight creates the dir
    // The disk "goes away": the folder is replaced by a file, so every mkdir below it fails (ENOTDIR).
    await rm(dir, { recursive: true });
    await writeFile(dir, 'unmounted');

    for (const name of ['Caller1', 'Caller2']) {
      const caller = new Bot({ server: server.url, room: 'rec', name, plugins: [callsHandle] });
      cleanup.push(() => caller.stop());
      await caller.start();
      await caller.services.require('calls').call(recorder.channel.id!).waitFor('connected', 20_000);
      await expect.poll(() => logs.filter((l) => l.msg.startsWith('recording could not start')).length, { timeout: 10_000 }).toBe(name === 'Caller1' ? 1 : 2);
    }
    const failures = logs.filter((l) => l.msg.startsWith('recording could not start'));
    expect(failures.map((l) => [l.level, l.plugin, l.err?.code])).toEqual([
      [50, 'record', 'ENOTDIR'],
      [20, 'record', 'ENOTDIR'],
    ]);
    expect(recorder.state.status).toBe('running');
    expect(recorder.services.require('recorder').state.status).toBe('idle');
    const alice = await participant(server.url, 'rec', 'Alice');
    cleanup.push(() => alice.close());
    const reply = next(alice.documents$.pipe(ofType('Chat')), (r) => r.from === recorder.channel.id && r.doc.Chat.Message === 'echo: still there?', 10_000);
    alice.send(frames.chat('', { Message: 'still there?', NoEcho: true }));
    await reply;
  }, 90_000);
});

describe('OnceReporter', () => {
  it('logs a key at error once, repeats at debug, and again at error after clear()', () => {
    const logs: LogLine[] = [];
    const reporter = new OnceReporter(pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }));
    reporter.report('DISK_FULL', {}, 'recording output failed');
    reporter.report('DISK_FULL', {}, 'recording output failed');
    reporter.report('FFMPEG_CRASHED:a', {}, 'participant recording failed');
    reporter.clear();
    reporter.report('DISK_FULL', {}, 'recording output failed');
    expect(logs.map((l) => [l.level, l.msg])).toEqual([
      [50, 'recording output failed'],
      [20, 'recording output failed (repeated)'],
      [50, 'participant recording failed'],
      [50, 'recording output failed'],
    ]);
  });
});
