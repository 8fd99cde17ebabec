import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, map, timeout } from 'rxjs';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { FILE_TRANSFER_MAX_BURST, fetchFile, type FileInfo } from '../../src/files/index.js';
import { Bot, shareFolder } from '../../src/index.js';
import type { TokenConnection } from '../../src/peer/index.js';
import type { Received } from '../../src/protocol/index.js';
import { noChromium } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { startBot, type TestBot } from './bot.js';
import { attachFiles, type BotFiles } from './bot-files.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(noChromium).sequential('interop: file sharing between Chromium and the bot', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let dir: string;
  let bot: TestBot | undefined;
  let files: BotFiles | undefined;
  let n = 0;
  const room = () => `interop-files-${Date.now()}-${++n}`;

  beforeAll(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'interop-files-'));
  });
  afterEach(async () => {
    files?.close();
    await bot?.close();
    bot = undefined;
    files = undefined;
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const setup = async (pageParams: Record<string, string | number> = {}) => {
    const r = room();
    bot = await startBot(server.url, r);
    files = attachFiles(bot);
    const page = await browser().openPage(server.url, { name: 'Files', ...pageParams });
    await page.t.join(r);
    return { bot, files, page };
  };

  /** The next FileInfo the bot receives in a Chat from `from`. */
  const nextFileInfo = (b: TestBot, from: string) =>
    firstValueFrom(
      b.channel.documents$.pipe(
        filter((d): d is Received<'Chat'> => d.kind === 'Chat' && d.from === from && !!d.doc.Chat.Status?.FileInfo),
        map((d) => d.doc.Chat.Status!.FileInfo as FileInfo),
        timeout(10_000),
      ),
    );

  it('the page downloads files the bot serves, byte-identical (0, 1, 60000, 60001 bytes and 10 MiB)', async () => {
    const { bot, files, page } = await setup();
    const sizes = [0, 1, 60_000, 60_001, 10 * 1024 * 1024 + 12_345];
    for (const size of sizes) {
      const content = randomBytes(size);
      const path = join(dir, `served-${size}.bin`);
      await writeFile(path, content);
      const info = await files.files.share(path);
      expect(info).toMatchObject({ size, chunks: Math.ceil(size / 60_000), name: `served-${size}.bin` });
      expect(info.id).toMatch(/^[0-9a-f]{96}$/);
      const before = (await page.t.fileInfos()).length;
      files.announce(info);
      await expect.poll(async () => (await page.t.fileInfos()).length, { timeout: 5000 }).toBe(before + 1);
      const announced = (await page.t.fileInfos()).at(-1)!;
      expect(announced).toEqual({ from: bot.id, info });
      const got = await page.t.download(bot.id, info);
      expect({ size: got.size, sha256: got.sha256, crcErrors: got.crcErrors, equalChunks: got.equalChunks }).toEqual({
        size,
        sha256: sha256(content),
        crcErrors: 0,
        equalChunks: true,
      });
      if (size > 1) expect(got.chunkSize).toBe(Math.min(size, 60_000));
      if (size >= 10 * 1024 * 1024) {
        // The web client adds connections on a 1 s timer, so a download that took longer used several.
        if (got.ms > 1500) expect(got.connections).toBeGreaterThanOrEqual(2);
        console.log(`[files] page downloaded ${size} B from the bot in ${got.ms} ms over ${got.connections} connections (${(size / 1e3 / got.ms).toFixed(1)} MB/s, WC stop-and-wait)`);
      }
    }
    // Every connection got {"m":"bye"} and the bot closed them.
    await expect.poll(() => files.server.connectionCount, { timeout: 5000 }).toBe(0);
  });

  it('a shareFolder bot serves the page byte-identical with SCTP Max.Burst raised on every token connection', async () => {
    const share = await mkdtemp(join(dir, 'share-'));
    const content = randomBytes(109 * 60_000 - 5); // two web-client jobs, so two connections
    await writeFile(join(share, 'burst.bin'), content);
    const r = room();
    const library = new Bot({ server: server.url, room: r, name: 'Library', plugins: [shareFolder({ dir: share, announce: false, announceToJoiners: 'off' })] });
    await library.start();
    try {
      const connections: TokenConnection[] = [];
      const sub = library.services.require('calls').tokenConnections$.subscribe((c) => connections.push(c));
      const page = await browser().openPage(server.url, { name: 'Files' });
      await page.t.join(r);
      const info = library.services.require('sharedFiles').list()[0]!.info;
      const got = await page.t.download(library.channel.id!, info);
      sub.unsubscribe();
      expect({ sha256: got.sha256, crcErrors: got.crcErrors }).toEqual({ sha256: sha256(content), crcErrors: 0 });
      expect(connections.length).toBe(got.connections);
      // werift's default is 4 packets per transmission (patches/werift+0.24.4.patch makes it settable).
      const bursts = connections.map((c) => (c.peerConnection.sctpTransport?.sctp as { maxBurst?: number } | undefined)?.maxBurst);
      expect(bursts).toEqual(connections.map(() => FILE_TRANSFER_MAX_BURST));
    } finally {
      await library.stop();
    }
  });

  it('the bot downloads files the page shares, byte-identical (420 kB and 10 MiB)', async () => {
    const { bot, files, page } = await setup();
    for (const [i, size] of [7 * 60_000 + 321, 10 * 1024 * 1024 + 7].entries()) {
      const infoPromise = nextFileInfo(bot, page.id);
      const shared = await page.t.shareRandomFile(`from-page-${i}.bin`, size);
      const info = await infoPromise;
      expect(info).toEqual(shared.info);
      const started = Date.now();
      const result = await fetchFile({ connector: files.connector, peerId: page.id, info, targetDir: join(dir, `got-1-${i}`), connections: 2 }).done;
      const ms = Date.now() - started;
      expect(result.size).toBe(info.size);
      expect(sha256(await readFile(result.path))).toBe(shared.sha256);
      if (size > 1e7) console.log(`[files] bot downloaded ${size} B from the page in ${ms} ms (${(size / 1e3 / ms).toFixed(1)} MB/s)`);
      const stats = (await page.t.fileStats(info.id))!;
      expect(stats.connections).toBeGreaterThanOrEqual(1);
      expect(new Set(stats.served).size).toBe(info.chunks);
      // The bot said bye on every connection.
      await expect.poll(async () => (await page.t.fileStats(info.id))!.byes, { timeout: 5000 }).toBe(stats.connections);
    }
  });

  it('the bot detects a corrupted chunk from the page and fetches it again', async () => {
    const { bot, files, page } = await setup();
    const infoPromise = nextFileInfo(bot, page.id);
    const shared = await page.t.shareRandomFile('corrupt.bin', 3 * 60_000 + 5);
    const info = await infoPromise;
    await page.t.corruptNextChunk(1);
    const result = await fetchFile({ connector: files.connector, peerId: page.id, info, targetDir: join(dir, 'got-2'), connections: 1 }).done;
    expect(sha256(await readFile(result.path))).toBe(shared.sha256);
    const stats = (await page.t.fileStats(info.id))!;
    expect(stats.corrupted).toHaveLength(1);
    // The corrupted index was served twice: once broken, once again on the bot's re-request.
    expect(stats.served.filter((i) => i === stats.corrupted[0])).toHaveLength(2);
  });

  it('the bot refuses tokens it does not serve (unknown and unshared)', async () => {
    const { files, page } = await setup();
    const unknown = randomBytes(48).toString('hex');
    await expect(page.t.tokenOpen(bot!.id, unknown, 3000)).rejects.toThrow(/not open within/);
    const path = join(dir, 'unshared.bin');
    await writeFile(path, randomBytes(1000));
    const info = await files.files.share(path);
    await files.files.unshare(info.id);
    await expect(page.t.tokenOpen(bot!.id, info.id, 3000)).rejects.toThrow(/not open within/);
    // Silently ignored like the web client: no Answer was sent for either token.
    const answers = (await page.t.received('Answer')) as { Data: { Answer: { _token?: string } } }[];
    expect(answers.filter((a) => a.Data.Answer._token === unknown || a.Data.Answer._token === info.id)).toEqual([]);
  });
});
