import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, record } from '../../src/index.js';
import { mixdown, readSidecar, type MeetingRecording } from '../../src/media/index.js';
import { useBrowser, type TestPage } from '../helpers/browser.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { meanLuma, probe } from '../helpers/ffprobe.js';
import { testServer } from '../helpers/peers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(noChromium || noFfmpeg).sequential('record: screen shares (Chromium sharing a canvas)', () => {
  const browser = useBrowser();
  let server: Awaited<ReturnType<typeof testServer>>;
  let dir: string;
  beforeAll(async () => {
    server = await testServer();
    dir = await mkdtemp(join(tmpdir(), 'spreed-screen-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function recorderBot(room: string): Promise<Bot> {
    const bot = new Bot({ server: server.url, room, name: 'Recorder', plugins: [autoAnswer(), record({ dir, command: false })] });
    await bot.start();
    return bot;
  }

  async function callBot(page: TestPage, bot: Bot): Promise<void> {
    await page.t.call(bot.channel.id!);
    await expect.poll(async () => (await page.t.state()).calls[0]?.dc, { timeout: 20_000, interval: 300 }).toBe('open');
  }

  async function screenFile(result: MeetingRecording | undefined) {
    expect(result).toBeDefined();
    const sidecar = await readSidecar(result!.sidecarPath);
    const screens = sidecar.files.filter((f) => f.screen);
    expect(screens).toHaveLength(1);
    const file = screens[0]!;
    expect(file.file).toBe('Sharer.screen.webm');
    expect(file).toMatchObject({ state: 'finished', kinds: ['video'] });
    const media = await probe(join(result!.dir, file.file));
    expect(media.streams.map((s) => s.codec_name)).toEqual(['vp8']);
    return { sidecar, file, media };
  }

  it('records a share as <name>.screen.webm; the bye finalises it and the sidecar has its start and stop', async () => {
    const room = `screen-${Date.now()}`;
    const bot = await recorderBot(room);
    try {
      const page = await browser().openPage(server.url, { name: 'Sharer' });
      await page.t.join(room);
      await callBot(page, bot);
      const token = await page.t.startScreenshare({ canvas: true });
      await sleep(4000);
      await page.t.stopScreenshare();
      const byeAt = Date.now();
      await sleep(1500);
      const result = await bot.services.require('recorder').stop();
      const { sidecar, file, media } = await screenFile(result);
      expect(media.duration).toBeGreaterThan(2);
      expect(media.streams[0]!.width).toBe(1280);
      expect(sidecar.screenShares).toHaveLength(1);
      const share = sidecar.screenShares![0]!;
      expect(share).toMatchObject({ participantId: page.id, token });
      expect(share.stoppedAt).toBeLessThanOrEqual(byeAt + 1000);
      expect(file.stoppedAt).toBeLessThanOrEqual(byeAt + 1500);
      // The camera has its own file, apart from the screen.
      expect(sidecar.files.filter((f) => !f.screen && f.participantId === page.id).map((f) => f.file)).toEqual(['Sharer.webm']);
      // The mix-down shows the share (the light slide canvas) in its main tile while it is on.
      const mix = await mixdown(result!.dir, { captions: false });
      const t0 = Math.min(...sidecar.files.map((f) => f.firstSampleTime ?? f.startedAt));
      const middle = ((file.firstSampleTime ?? file.startedAt) + share.stoppedAt!) / 2 - t0;
      expect(await meanLuma(mix.file, middle / 1000, '200:150:140:105')).toBeGreaterThan(170);
    } finally {
      await bot.stop();
    }
  }, 90_000);

  it('picks up a share that started before the recorder joined', async () => {
    const room = `screen-early-${Date.now()}`;
    const page = await browser().openPage(server.url, { name: 'Sharer' });
    await page.t.join(room);
    await page.t.startScreenshare({ canvas: true });
    const bot = await recorderBot(room);
    try {
      await callBot(page, bot);
      await sleep(4000);
      const { sidecar, media } = await screenFile(await bot.services.require('recorder').stop());
      expect(media.duration).toBeGreaterThan(1.5);
      expect(sidecar.screenShares?.[0]?.participantId).toBe(page.id);
    } finally {
      await bot.stop();
    }
  }, 90_000);
});
