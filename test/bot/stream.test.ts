import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, commands, frames, ofType, stream } from '../../src/index.js';
import { useBrowser } from '../helpers/browser.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { meanLuma } from '../helpers/ffprobe.js';
import { next, participant, testServer } from '../helpers/peers.js';

const hlsJs = join(dirname(createRequire(import.meta.url).resolve('hls.js')), 'hls.min.js');
const PLAYER = `<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script>
<script>const h = new Hls(); h.loadSource('/live/index.m3u8'); h.attachMedia(document.getElementById('v'));
h.on(Hls.Events.MANIFEST_PARSED, () => document.getElementById('v').play());</script>`;

/** Serves the player, hls.js from node_modules and the HLS folder on loopback (no CDN). */
function playerServer(hlsDir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PLAYER);
    if (path === '/hls.min.js') return void createReadStream(hlsJs).pipe(res.writeHead(200, { 'content-type': 'text/javascript' }));
    const file = normalize(join(hlsDir, path.replace(/^\/live\//, '')));
    if (!path.startsWith('/live/') || !file.startsWith(hlsDir) || !existsSync(file)) return void res.writeHead(404).end();
    const type = file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
    createReadStream(file).pipe(res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server })));
}

describe.skipIf(noFfmpeg || noChromium).sequential('stream plugin: HLS played in Chromium, started and stopped by chat', () => {
  const browser = useBrowser();
  let server: Awaited<ReturnType<typeof testServer>>;
  let dir: string;
  beforeAll(async () => {
    server = await testServer();
    dir = await mkdtemp(join(tmpdir(), 'spreed-stream-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('!stream start hls → hls.js plays it with currentTime advancing; !stream stop ends the playlist', async () => {
    const room = `stream-${Date.now()}`;
    const hlsDir = join(dir, 'live');
    const bot = new Bot({ server: server.url, room, name: 'Streamer', plugins: [commands(), autoAnswer(), stream({ hlsDir })] });
    await bot.start();
    const alice = await participant(server.url, room, 'Alice');
    const player = await playerServer(hlsDir);
    try {
      // A Chromium participant is in the call, so the composite shows a real camera.
      const page = await browser().openPage(server.url, { name: 'Camera' });
      await page.t.join(room);
      await page.t.call(bot.channel.id!);
      const ask = async (text: string, expected: RegExp) => {
        const reply = next(alice.documents$.pipe(ofType('Chat')), (r) => r.from === bot.channel.id, 60_000);
        alice.send(frames.chat('', { Message: text, NoEcho: true }));
        const message = (await reply).doc.Chat.Message ?? '';
        expect(message).toMatch(expected);
        return message;
      };
      expect(await ask('!stream start hls', /^streaming to /)).toContain('index.m3u8');
      await expect.poll(() => existsSync(join(hlsDir, 'index.m3u8')) && (readFileSync(join(hlsDir, 'index.m3u8'), 'utf8').match(/#EXTINF/g) ?? []).length, { timeout: 40_000, interval: 500 }).toBeGreaterThanOrEqual(2);
      const viewer = await browser().browser.newPage();
      try {
        await viewer.goto(player.url);
        const time = () => viewer.evaluate<number>('document.getElementById("v").currentTime');
        await expect.poll(time, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0.5);
        const first = await time();
        await expect.poll(time, { timeout: 20_000, interval: 500 }).toBeGreaterThan(first + 1);
      } finally {
        await viewer.close();
      }
      // A screen share takes the main tile (the light slide canvas), with the camera beside it.
      await page.t.startScreenshare({ canvas: true });
      const latestSegment = () => join(hlsDir, readFileSync(join(hlsDir, 'index.m3u8'), 'utf8').trim().split('\n').pop()!);
      await expect.poll(() => meanLuma(latestSegment(), 0, '200:150:140:105').catch(() => 0), { timeout: 40_000, interval: 1000 }).toBeGreaterThan(170);
      expect(await ask('!stream stop', /^stream (stopped|ended)/)).toMatch(/^stream stopped after \d+ s$/);
      expect(readFileSync(join(hlsDir, 'index.m3u8'), 'utf8')).toContain('#EXT-X-ENDLIST');
    } finally {
      player.server.close();
      alice.close();
      await bot.stop();
    }
  }, 150_000);
});
