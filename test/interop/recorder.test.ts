import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { useBrowser } from '../helpers/browser.js';
import { measureRecordingQuality, recordPage } from './quality.js';

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
    const report = await measureRecordingQuality({ harness: browser(), serverUrl: server.url, dir, durationMs: 5000 });
    console.log(`[quality] ${JSON.stringify(report)}`);
    // Streams only; the figures are for the benchmark.
    expect(report.recorded.videoKbps).toBeGreaterThan(0);
    expect(report.recorded.audioKbps).toBeGreaterThan(0);
    expect(report.browser.videoKbps).toBeGreaterThan(0);
  });
});
