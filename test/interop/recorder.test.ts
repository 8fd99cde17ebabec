import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { filter } from 'rxjs';
import { MeetingRecorder, readSidecar } from '../../src/media/index.js';
import type { Received } from '../../src/protocol/index.js';
import { startBot } from './bot.js';
import { measureRecordingQuality, probeRecording, recordPage } from './quality.js';

describe.skipIf(noChromium || noFfmpeg).sequential('interop: recording a Chromium page', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'interop-rec-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a page calls the bot and the recorder writes a WebM with Opus and VP8 of the expected duration', async () => {
    const room = `interop-rec-${Date.now()}`;
    const page = await browser().openPage(server.url, { name: 'Recorded' });
    await page.t.join(room);
    const { file, wallSeconds, probe } = await recordPage({ serverUrl: server.url, room, page, durationMs: 6000, dir });
    expect(file).toMatch(/\.webm$/);
    expect(probe.format).toContain('webm');
    expect(probe.audio?.codec).toBe('opus');
    expect(probe.video?.codec).toBe('vp8');
    expect(probe.video?.width).toBeGreaterThan(0);
    expect(Math.abs(probe.duration - wallSeconds)).toBeLessThanOrEqual(1);
    expect(Math.abs(probe.video!.duration - wallSeconds)).toBeLessThanOrEqual(1);
    expect(Math.abs(probe.audio!.duration - wallSeconds)).toBeLessThanOrEqual(1);
  });

  it('quality measurement: recording vs the same page sending to a second Chromium page', async () => {
    const report = await measureRecordingQuality({ harness: browser(), serverUrl: server.url, dir, durationMs: 5000, remb: 4_000_000 });
    console.log(`[quality] ${JSON.stringify(report)}`);
    // Streams only; the figures are for the benchmark.
    expect(report.recorded.videoKbps).toBeGreaterThan(0);
    expect(report.recorded.audioKbps).toBeGreaterThan(0);
    expect(report.browser.videoKbps).toBeGreaterThan(0);
  });

  it('meeting recording of a Conference room: one WebM per page, Talking in the speaker timeline', async () => {
    const room = `conference/interop-rec-${Date.now()}`;
    const bot = await startBot(server.url, room);
    const rec = await MeetingRecorder.create({ room, rootDir: dir, settleMs: 300 });
    try {
      bot.calls.calls$.subscribe((call) => rec.join(call.peerId));
      bot.calls.tracks$.subscribe((track) => rec.addSource(track));
      bot.calls.documents$
        .pipe(filter((d): d is Received<'Talking'> => d.kind === 'Talking'))
        .subscribe((d) => rec.talking(d.from, d.doc.Talking));
      const a = await browser().openPage(server.url, { name: 'RecA' });
      const b = await browser().openPage(server.url, { name: 'RecB' });
      await a.t.join(room);
      await b.t.join(room);
      await expect.poll(() => [...bot.calls.calls.values()].filter((c) => c.state.status === 'connected').length, { timeout: 30_000, interval: 500 }).toBe(2);
      await a.t.startTalking(500);
      await b.t.startTalking(700);
      await new Promise((r) => setTimeout(r, 5000));
      const done = await rec.stop();
      const byPage = new Map(done.files.map((f) => [f.participantId, f]));
      expect(new Set(byPage.keys())).toEqual(new Set([a.id, b.id]));
      for (const f of done.files) {
        expect(f).toMatchObject({ state: 'finished', kinds: expect.arrayContaining(['audio', 'video']) });
        const probe = await probeRecording(join(done.dir, f.file));
        expect(probe.audio?.codec).toBe('opus');
        expect(probe.video?.codec).toBe('vp8');
        expect(probe.duration).toBeGreaterThan(3);
      }
      const sidecar = await readSidecar(done.sidecarPath);
      expect(new Set(sidecar.speakerTimeline.filter((e) => e.talking).map((e) => e.participantId))).toEqual(new Set([a.id, b.id]));
    } finally {
      await rec.stop();
      await bot.close();
    }
  });
});
