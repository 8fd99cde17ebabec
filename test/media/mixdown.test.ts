import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mixdownFilter, type MixdownFeatures } from '../../src/media/mixdown.js';
import { ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { ffprobe } from './helpers/ffprobe.js';

const run = promisify(execFile);
const current: MixdownFeatures = { adelayAll: true, amixNormalize: true, xstackFill: true };
/** What the bundled 2018 build (ffmpeg 4.1) has: see test/media/fixtures/ffmpeg-help/4.1. */
const ffmpeg41: MixdownFeatures = { adelayAll: false, amixNormalize: false, xstackFill: false };
const cell = { width: 160, height: 90, fps: 10 };
const av = ['audio', 'video'] as const;

describe('mixdownFilter', () => {
  it('uses adelay all=, amix normalize=0 and xstack fill= when ffmpeg has them', () => {
    const { graph, audio, video } = mixdownFilter([{ offsetMs: 0, kinds: av }, { offsetMs: 1500, kinds: av }, { offsetMs: 200, kinds: av }], cell, current, 5000);
    expect(graph).toContain('adelay=1500:all=1');
    expect(graph).toContain('amix=inputs=3:duration=longest:dropout_transition=0:normalize=0[aout]');
    expect(graph).toContain('xstack=inputs=3:layout=0_0|160_0|0_90:fill=black[vout]');
    expect(graph).not.toMatch(/apad|volume=|lutyuv/);
    expect([audio, video]).toEqual(['[aout]', '[vout]']);
  });

  it('without them (ffmpeg 4.1): a delay per channel, voices padded to the meeting and 1/N undone, black filler tiles', () => {
    const { graph } = mixdownFilter([{ offsetMs: 0, kinds: av }, { offsetMs: 1500, kinds: av }, { offsetMs: 200, kinds: av }], cell, ffmpeg41, 5000);
    expect(graph).toContain('aformat=channel_layouts=stereo,adelay=1500|1500,apad,atrim=end=5[a1]');
    expect(graph).toContain('amix=inputs=3:duration=longest:dropout_transition=0,volume=3[aout]');
    expect(graph).toContain('[v0]split=2[v0tile][v0copy];[v0copy]lutyuv=y=16:u=128:v=128[fill0]');
    expect(graph).toContain('[v0tile][v1][v2][fill0]xstack=inputs=4:layout=0_0|160_0|0_90|160_90[vout]');
    expect(graph).not.toMatch(/all=1|normalize=|fill=/);
  });

  it('a single voice is neither padded nor mixed', () => {
    const { graph, audio } = mixdownFilter([{ offsetMs: 300, kinds: ['audio'] }], cell, ffmpeg41, 5000);
    expect(graph).toBe('[0:a]aresample=48000,aformat=channel_layouts=stereo,adelay=300|300[a0]');
    expect(audio).toBe('[a0]');
  });
});

describe.skipIf(noFfmpeg)('mixdownFilter graphs run on this ffmpeg', () => {
  /** Three 2 s clips (testsrc + sine), like three recordings. */
  async function clips(dir: string): Promise<string[]> {
    return Promise.all(
      [440, 550, 660].map(async (hz) => {
        const file = join(dir, `${hz}.webm`);
        const lavfi = ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=10:duration=2', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=2`];
        await run(ffmpegPath, ['-v', 'error', ...lavfi, '-c:v', 'libvpx', '-deadline', 'realtime', '-c:a', 'libopus', '-ac', '2', '-y', file]);
        return file;
      }),
    );
  }

  /** Mean luma and chroma of the bottom-right cell of the mix's first frame (black: Y≈16, U=V≈128; green: U,V≈0). */
  async function emptyCell(file: string): Promise<{ y: number; u: number; v: number }> {
    const { stdout } = await run(ffmpegPath, ['-v', 'error', '-i', file, '-frames:v', '1', '-vf', `crop=${cell.width}:${cell.height}:${cell.width}:${cell.height}`, '-pix_fmt', 'yuv444p', '-f', 'rawvideo', '-'], {
      encoding: 'buffer',
      maxBuffer: 1 << 24,
    });
    const plane = cell.width * cell.height;
    const mean = (k: number) => stdout.subarray(k * plane, (k + 1) * plane).reduce((a, b) => a + b, 0) / plane;
    return { y: mean(0), u: mean(1), v: mean(2) };
  }

  it.each([['current', current], ['4.1', ffmpeg41]] as const)('%s graph: playable mix of the meeting length with a black empty cell', async (name, features) => {
    if (name === 'current') {
      const { stdout } = await run(ffmpegPath, ['-hide_banner', '-h', 'filter=amix']);
      if (!stdout.includes('normalize')) return; // this ffmpeg is older: only its own graph applies
    }
    const dir = await mkdtemp(join(tmpdir(), 'mixgraph-'));
    const files = await clips(dir);
    const inputs = files.map((file, i) => ({ file, offsetMs: i * 500, kinds: av }));
    const { graph, audio, video } = mixdownFilter(inputs, cell, features, 3000);
    const out = join(dir, 'mix.webm');
    const args = ['-v', 'error', ...inputs.flatMap((i) => ['-i', i.file]), '-filter_complex', graph, '-map', video!, '-map', audio!];
    await run(ffmpegPath, [...args, '-c:v', 'libvpx', '-deadline', 'realtime', '-c:a', 'libopus', '-y', out]);
    const probe = ffprobe(out);
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(probe.duration).toBeGreaterThan(2.7);
    expect(probe.duration).toBeLessThan(3.6);
    const { y, u, v } = await emptyCell(out);
    expect(y).toBeLessThan(40);
    expect(Math.abs(u - 128)).toBeLessThan(12);
    expect(Math.abs(v - 128)).toBeLessThan(12);
  });
});
