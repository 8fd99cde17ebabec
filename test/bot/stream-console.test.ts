import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, stream } from '../../src/index.js';
import { consoleRoutes, listen, LiveModel } from '../../src/console/index.js';
import { noFfmpeg } from '../helpers/env.js';
import { testServer } from '../helpers/peers.js';

describe.skipIf(noFfmpeg).sequential('stream plugin: HLS served by the console', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let dir: string;
  beforeAll(async () => {
    server = await testServer();
    dir = await mkdtemp(join(tmpdir(), 'spreed-stream-console-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the playlist and its segments on /live/<bot>/ with the console token, nothing else', async () => {
    const hlsDir = join(dir, 'live');
    const bot = new Bot({ server: server.url, room: `stream-console-${Date.now()}`, name: 'Streamer', plugins: [stream({ hlsDir, command: false })] });
    await bot.start();
    const live = new LiveModel({ bots: () => [bot] });
    const routes = await consoleRoutes({ live, token: 'console-secret', recordingsDir: dir });
    const http = await listen(routes.app, '127.0.0.1', 0);
    const get = (path: string, auth = true) => fetch(`${http.url}${path}`, auth ? { headers: { authorization: 'Bearer console-secret' } } : {});
    try {
      const id = live.snapshot().bots[0]!.id;
      expect(await bot.services.require('stream').start('hls')).toMatch(/^streaming to .*index\.m3u8$/);
      await writeFile(join(dir, 'secret.txt'), 'not for the console'); // a file beside the HLS folder
      let playlist = '';
      await expect
        .poll(
          async () => {
            const res = await get(`/live/${id}/index.m3u8`);
            playlist = res.ok ? await res.text() : '';
            return (playlist.match(/#EXTINF/g) ?? []).length;
          },
          { timeout: 40_000, interval: 500 },
        )
        .toBeGreaterThanOrEqual(1);
      const res = await get(`/live/${id}/index.m3u8`);
      expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      const segment = playlist.split('\n').find((l) => l.endsWith('.ts'))!;
      const media = await get(`/live/${id}/${segment}`);
      expect([media.status, media.headers.get('content-type')]).toEqual([200, 'video/mp2t']);
      expect((await media.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      // The console's access rules: the token, no way out of the folder, no other bot.
      expect((await get(`/live/${id}/index.m3u8`, false)).status).toBe(401);
      for (const path of [`/live/${id}/..%2Fsecret.txt`, `/live/${id}/%2E%2E/secret.txt`, `/live/${id}/secret.txt`, '/live/bot-99/index.m3u8']) {
        expect([path, (await get(path)).status]).toEqual([path, 404]);
      }
      expect(await bot.services.require('stream').stop()).toMatch(/^stream stopped after/);
    } finally {
      await http.close();
      routes.close();
      live.close();
      await bot.stop();
    }
  }, 90_000);
});
