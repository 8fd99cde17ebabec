/**
 * Issue 13 item 1: a terminal's Ctrl-C (and systemd's control-group stop) signals the whole
 * process group, ffmpeg children included. `spreed-bot run` must still finalise every file, leave
 * `finished` entries in meeting.json and exit 0 within the drain time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSidecar } from '../../src/media/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');
const drainTimeoutMs = 20_000;

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.skipIf(noChromium || noFfmpeg).sequential('spreed-bot run: a signal to the whole process group during a call', () => {
  const browser = useBrowser();
  let server: ChannelingServer;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'spreed-pgrp-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s to the group: every file finished and playable, exit 0 within the drain time', async (signal) => {
    const room = `conference/pgrp-${signal.toLowerCase()}-${Date.now()}`;
    // A fresh folder per attempt (vitest may retry).
    const attempt = await mkdtemp(join(dir, `${signal}-`));
    const rec = join(attempt, 'rec');
    const config = join(attempt, 'bots.yaml');
    await writeFile(
      config,
      [
        `server: ${server.url}`,
        `drainTimeoutMs: ${drainTimeoutMs}`,
        `bots:`,
        `  - name: Recorder`,
        `    room: ${room}`,
        `    plugins: [autoAnswer, { name: record, options: { dir: "${rec}" } }]`,
      ].join('\n'),
    );
    // detached: the CLI leads its own process group, like a shell job or a systemd control group.
    const child = spawn(process.execPath, [bin, 'run', config], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 30_000, interval: 200 }).toContain('bot started');
      const page = await browser().openPage(server.url, { name: 'Caller' });
      await page.t.join(room);
      // Recording: a media file with data, then a little more so both tracks have frames.
      await expect
        .poll(async () => (await filesUnder(rec)).filter((f) => f.endsWith('.webm')).length, { timeout: 30_000, interval: 300 })
        .toBeGreaterThan(0);
      await page.t.startTalking(400);
      await new Promise((r) => setTimeout(r, 3000));

      process.kill(-child.pid!, signal);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), drainTimeoutMs + 5000)))]);
      clearTimeout(timer);
      expect(code, out).toBe(0);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const sidecars = (await filesUnder(rec)).filter((f) => f.endsWith('meeting.json'));
    expect(sidecars).toHaveLength(1);
    const sidecar = await readSidecar(sidecars[0]!);
    expect(sidecar.stoppedAt).toBeDefined();
    expect(sidecar.files.length).toBeGreaterThan(0);
    for (const file of sidecar.files) {
      expect(file, out).toMatchObject({ state: 'finished' });
      const media = await probe(join(sidecars[0]!, '..', file.file));
      expect(media.duration).toBeGreaterThan(0);
      expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    }
  }, 120_000);
});
