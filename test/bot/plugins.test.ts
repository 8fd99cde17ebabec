import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, collectFiles, ensureCalls, ofType, shareFolder, type Plugin } from '../../src/index.js';
import { next, participant, testServer } from '../helpers/peers.js';

let server: Awaited<ReturnType<typeof testServer>>;
const bots: Bot[] = [];
beforeEach(async () => {
  server = await testServer();
});
afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.stop()));
  await server.close();
});

async function bot(name: string, plugins: Plugin<any>[], room = 'plugins'): Promise<Bot> {
  const b = new Bot({ server: server.url, room, name, plugins, stopTimeoutMs: 5000 });
  bots.push(b);
  await b.start();
  return b;
}

/** A plugin exposing the call manager to the test. */
const callsHandle: Plugin = { name: 'calls-handle', setup: (ctx) => void ensureCalls(ctx) };

describe('autoAnswer plugin', () => {
  it('answers callers on the allow list and rejects others with Bye reject', async () => {
    const answerer = await bot('Answerer', [autoAnswer({ policy: { allow: ['Alice'] } })]);
    const alice = await bot('Alice', [callsHandle]);
    const mallory = await bot('Mallory', [callsHandle]);
    const aliceCall = alice.services.require('calls').call(answerer.channel.id!);
    await aliceCall.waitFor('connected', 20_000);
    const malloryCall = mallory.services.require('calls').call(answerer.channel.id!);
    const closed = await malloryCall.closed();
    expect(closed).toMatchObject({ reason: 'reject', by: 'remote' });
    expect(answerer.metricsReport().callsActive).toBe(1);
  }, 40_000);

  it('advertises autoCalls in the bot Status', async () => {
    const answerer = await bot('Answerer', [autoAnswer()]);
    expect(answerer.status).toMatchObject({ displayName: 'Answerer', autoCalls: ['conference'] });
  });
});

describe('file plugins (bot ↔ bot)', () => {
  it('collectFiles downloads every file shareFolder announces, byte-identical', async () => {
    const shareDir = await mkdtemp(join(tmpdir(), 'share-'));
    const dropDir = await mkdtemp(join(tmpdir(), 'drop-'));
    await mkdir(join(shareDir, 'sub'));
    const files: Record<string, Buffer> = {
      'empty.txt': Buffer.alloc(0),
      'one.bin': randomBytes(1),
      'sub/big.bin': randomBytes(300_001),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(shareDir, name), data);
    const collector = await bot('Collector', [collectFiles({ dir: dropDir })]);
    const downloads = collector.services.require('fileDownloads');
    const saved: string[] = [];
    downloads.finished$.subscribe((r) => saved.push(r.name));
    const sharer = await bot('Sharer', [shareFolder({ dir: shareDir })]);
    await expect.poll(() => saved.length, { timeout: 30_000 }).toBe(3);
    expect(sharer.metricsReport().fileTransfers).toEqual([{ direction: 'serve', count: expect.any(Number), bytes: 300_002 }]);
    for (const [name, data] of Object.entries(files)) {
      const base = name.split('/').pop()!;
      const got = await readFile(join(dropDir, base));
      expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    }
    expect(collector.metricsReport().fileTransfers).toEqual([{ direction: 'fetch', count: 3, bytes: 300_002 }]);
  }, 60_000);

  it('announces shared files to the room when someone joins, never privately; a later joiner fetches them', async () => {
    const shareDir = await mkdtemp(join(tmpdir(), 'share-'));
    const dropDir = await mkdtemp(join(tmpdir(), 'drop-'));
    const data = randomBytes(123_456);
    await writeFile(join(shareDir, 'late.bin'), data);
    const sharer = await bot('Sharer', [shareFolder({ dir: shareDir, announce: false, joinAnnounceDelayMs: 200 })]);
    // A person joining: a private chat from the bot would become the web client's active chat.
    const alice = await participant(server.url, 'plugins', 'Alice');
    const fromSharer: { to: string; file?: string }[] = [];
    const sub = alice.documents$.pipe(ofType('Chat')).subscribe((r) => {
      if (r.from === sharer.channel.id && r.doc.Chat.Message) fromSharer.push({ to: r.doc.To, file: r.doc.Chat.Status?.FileInfo?.name });
    });
    await expect.poll(() => fromSharer, { timeout: 10_000 }).toEqual([{ to: '', file: 'late.bin' }]);
    const collector = await bot('Late', [collectFiles({ dir: dropDir, window: 4 })]);
    const result = await firstValueFrom(collector.services.require('fileDownloads').finished$.pipe(timeout(30_000)));
    expect(await readFile(result.path)).toEqual(data);
    expect(fromSharer.every((m) => m.to === '')).toBe(true);
    sub.unsubscribe();
    await alice.close();
  }, 60_000);

  it("announceToJoiners: 'private' still sends each joiner the files privately", async () => {
    const shareDir = await mkdtemp(join(tmpdir(), 'share-'));
    await writeFile(join(shareDir, 'a.txt'), 'a');
    const sharer = await bot('Sharer', [shareFolder({ dir: shareDir, announce: false, announceToJoiners: 'private' })]);
    const alice = await participant(server.url, 'plugins', 'Alice');
    const announcement = await next(alice.documents$.pipe(ofType('Chat')), (r) => r.from === sharer.channel.id && !!r.doc.Chat.Status?.FileInfo, 10_000);
    expect(announcement.doc.To).toBe(alice.id);
    await alice.close();
  }, 30_000);
});
