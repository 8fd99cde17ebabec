import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixdown, mixdownFilter, shownBetween } from '../../src/media/mixdown.js';
import type { SidecarFile } from '../../src/media/sidecar.js';
import { ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { ffprobe } from './helpers/ffprobe.js';

const run = promisify(execFile);
const cell = { width: 320, height: 180, fps: 10 };
const av = ['audio', 'video'] as const;

describe('mix-down with a screen share (graph)', () => {
  it('shows the share layout over the grid only while the share is on', () => {
    const inputs = [
      { offsetMs: 0, kinds: av },
      { offsetMs: 0, kinds: av },
      { offsetMs: 1000, kinds: ['video'] as const, screen: { fromMs: 1000, toMs: 3000 } },
    ];
    const { graph, video } = mixdownFilter(inputs, cell, undefined, 4000);
    // Two participants in the grid, the share not a grid tile.
    expect(graph).toContain('[grid0][grid1]xstack=inputs=2:layout=0_0|320_0');
    // The share fills the main tile (3/4 of 640x180) from its offset; the speakers are beside it.
    expect(graph).toContain('[2:v]scale=480:180:force_original_aspect_ratio=decrease');
    expect(graph).toMatch(/\[small1\]overlay=480:90/);
    expect(graph).toContain("overlay=0:0:enable='between(t,1,3)'[vmix]");
    expect(video).toBe('[vmix]');
  });

  it('takes the share times from the sidecar timeline, else from the file', () => {
    const file = { participantId: 'a', startedAt: 10_900, firstSampleTime: 11_000, stoppedAt: 14_000 } as SidecarFile;
    expect(shownBetween(file, [{ participantId: 'a', token: 't', startedAt: 10_800, stoppedAt: 13_500 }], 20_000, 10_000)).toEqual({ fromMs: 1000, toMs: 3500 });
    expect(shownBetween(file, [{ participantId: 'b', token: 't', startedAt: 10_800 }], 20_000, 10_000)).toEqual({ fromMs: 1000, toMs: 4000 });
  });
});

describe.skipIf(noFfmpeg)('mix-down with a screen share (real ffmpeg)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mix-screen-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function clip(file: string, video: string, audioHz?: number): Promise<void> {
    const args = ['-v', 'error', '-f', 'lavfi', '-i', video];
    if (audioHz) args.push('-f', 'lavfi', '-i', `sine=frequency=${audioHz}:duration=4`, '-c:a', 'libopus', '-ac', '2');
    await run(ffmpegPath, [...args, '-c:v', 'libvpx', '-deadline', 'realtime', '-y', join(dir, file)]);
  }

  /** Mean Y, U, V of a region of the mix's frame at `seconds`. */
  async function region(file: string, seconds: number, crop: string): Promise<{ y: number; u: number; v: number }> {
    const { stdout } = await run(ffmpegPath, ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', `crop=${crop}`, '-pix_fmt', 'yuv444p', '-f', 'rawvideo', '-'], {
      encoding: 'buffer',
      maxBuffer: 1 << 24,
    });
    const plane = stdout.length / 3;
    const mean = (k: number) => stdout.subarray(k * plane, (k + 1) * plane).reduce((a, b) => a + b, 0) / plane;
    return { y: mean(0), u: mean(1), v: mean(2) };
  }

  it('puts the share (red) in the main tile while it is on, the speakers beside it, the grid before and after', async () => {
    const t0 = 1_700_000_000_000;
    await clip('Alice.webm', 'testsrc=size=320x180:rate=10:duration=4', 440);
    await clip('Bob.webm', 'testsrc=size=320x180:rate=10:duration=4', 660);
    await clip('Alice.screen.webm', 'color=c=red:size=1280x720:rate=10:duration=2');
    const file = (name: string, participantId: string, from: number, to: number, kinds: ('audio' | 'video')[], screen = false) => ({
      participantId,
      participantName: participantId,
      file: name,
      codecs: kinds.map((k) => (k === 'audio' ? 'opus' : 'vp8')),
      kinds,
      firstSampleTime: t0 + from,
      segment: 1,
      startedAt: t0 + from,
      stoppedAt: t0 + to,
      state: 'finished',
      ...(screen ? { screen } : {}),
    });
    const sidecar = {
      version: 1,
      room: 'screen-mix',
      startedAt: t0,
      stoppedAt: t0 + 4000,
      files: [file('Alice.webm', 'alice', 0, 4000, ['audio', 'video']), file('Bob.webm', 'bob', 0, 4000, ['audio', 'video']), file('Alice.screen.webm', 'alice', 1000, 3000, ['video'], true)],
      events: [],
      speakerTimeline: [],
      screenShares: [{ participantId: 'alice', token: 'screenshare_alice_0', startedAt: t0 + 1000, stoppedAt: t0 + 3000 }],
    };
    await writeFile(join(dir, 'meeting.json'), JSON.stringify(sidecar));
    const result = await mixdown(dir, { cellWidth: 320, cellHeight: 180, fps: 10, captions: false });
    const probe = ffprobe(result.file);
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    // 640x180: the main tile is 480x180, the 16:9 share fills 320x180 of it in the middle.
    const during = await region(result.file, 2, '200:160:140:10');
    expect(during.v).toBeGreaterThan(200); // red
    expect(during.u).toBeLessThan(110);
    // The speakers are beside the share (testsrc is bright), not under it.
    expect((await region(result.file, 2, '140:70:490:10')).y).toBeGreaterThan(60);
    for (const seconds of [0.4, 3.6]) {
      const grid = await region(result.file, seconds, '200:160:140:10');
      expect(grid.v).toBeLessThan(200); // Alice's camera, not the share
    }
  }, 60_000);
});
