import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, commands, record, shareFolder, collectFiles } from '../../src/index.js';
import { readSidecar } from '../../src/media/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';

/**
 * The product's headline: a recorder bot sits in a Conference-type room; two browsers (the
 * stock web client's protocol, fake camera and microphone) hold a meeting there; nobody calls the
 * bot by hand, and each browser ends up in its own playable file with a sidecar.
 */
describe.skipIf(noChromium || noFfmpeg).sequential('headline: recorder bot in a browser meeting', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'headline-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records one playable file per browser plus a sidecar with a speaker timeline', async () => {
    const room = `conference/headline-${Date.now()}`;
    const bot = new Bot({ server: server.url, room, name: 'Recorder', plugins: [commands(), record({ dir, stopWhenEmptyMs: 60_000 })] });
    await bot.start();
    try {
      const alice = await browser().openPage(server.url, { name: 'Alice' });
      const bob = await browser().openPage(server.url, { name: 'Bob' });
      await alice.t.join(room);
      await bob.t.join(room);
      await alice.t.startTalking(700);
      await bob.t.startTalking(900);
      const calls = bot.services.require('calls');
      await expect.poll(() => [...calls.calls.values()].filter((c) => c.state.status === 'connected').length, { timeout: 30_000 }).toBe(2);
      // The browsers are connected to each other as well (a full mesh).
      await expect
        .poll(async () => (await alice.t.state()).calls.filter((c) => c.state === 'connected').length, { timeout: 30_000 })
        .toBe(2);
      const recorder = bot.services.require('recorder');
      await expect.poll(() => recorder.state.status, { timeout: 10_000 }).toBe('recording');
      // Each browser's file opens once its name and first keyframe are in; then record 6 s.
      await expect.poll(() => recorder.stats?.segments ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 6000));
      const result = await recorder.stop();
      expect(result).toBeDefined();
      const sidecar = await readSidecar(result!.sidecarPath);
      const finished = sidecar.files.filter((f) => f.state === 'finished');
      expect(finished.map((f) => f.participantName).sort()).toEqual(['Alice', 'Bob']);
      for (const f of finished) {
        const media = await probe(join(result!.dir, f.file));
        expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
        expect(media.duration).toBeGreaterThan(3);
        expect(f.firstSampleTime).toBeGreaterThan(0);
      }
      const talkers = new Set(sidecar.speakerTimeline.map((t) => t.participantId));
      expect(talkers.size).toBe(2);
    } finally {
      await bot.stop();
    }
  }, 120_000);

  it('a browser shares a file in the room; a file-drop bot collects it byte-identical, and the browser downloads the bot’s file', async () => {
    const room = `files-${Date.now()}`;
    const drop = await mkdtemp(join(dir, 'drop-'));
    const share = await mkdtemp(join(dir, 'share-'));
    const { writeFile, readFile } = await import('node:fs/promises');
    const { createHash, randomBytes } = await import('node:crypto');
    const served = randomBytes(150_001);
    await writeFile(join(share, 'from-bot.bin'), served);
    const bot = new Bot({ server: server.url, room, name: 'Drop', plugins: [commands(), collectFiles({ dir: drop }), shareFolder({ dir: share })] });
    await bot.start();
    try {
      const page = await browser().openPage(server.url, { name: 'Carol' });
      await page.t.join(room);
      const finished = firstValueFrom(bot.services.require('fileDownloads').finished$.pipe(timeout(60_000)));
      const shared = await page.t.shareRandomFile('from-page.bin', 200_000);
      const saved = await finished;
      const bytes = await readFile(saved.path);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(shared.sha256);
      // The bot announced its file to the joiner privately; the page downloads it like the web client.
      await expect.poll(async () => (await page.t.fileInfos()).some((f) => f.info.name === 'from-bot.bin'), { timeout: 20_000 }).toBe(true);
      const info = (await page.t.fileInfos()).find((f) => f.info.name === 'from-bot.bin')!;
      const download = await page.t.download(info.from, info.info, { connections: 3 });
      expect(download.sha256).toBe(createHash('sha256').update(served).digest('hex'));
      expect(download.crcErrors).toBe(0);
    } finally {
      await bot.stop();
    }
  }, 120_000);
});
