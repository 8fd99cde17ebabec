import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noFfmpeg } from '../helpers/env.js';
import { ffprobe, hasCues } from './helpers/ffprobe.js';
import { sleep } from './helpers/synthetic-call.js';

const childScript = join(import.meta.dirname, 'fixtures', 'record-child.ts');

/**
 * Runs the recorder child until it reports its file, then SIGKILLs it and, unless `keepFfmpeg`,
 * its ffmpeg too. Resolves with the file and the ffmpeg pids.
 */
async function recordThenKill(video: 'vp8' | 'h264' | 'none', keepFfmpeg = false): Promise<{ file: string; ffmpegPids: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'crash-'));
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, dir, video], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`recorder child exited early (${code})`)));
  });
  const { file, state, error } = JSON.parse(line) as { file: string; state?: string; error?: string };
  let ffmpegPids: number[];
  try {
    ffmpegPids = execFileSync('pgrep', ['-P', String(child.pid), '-x', 'ffmpeg']).toString().trim().split('\n').map(Number);
  } catch {
    child.kill('SIGKILL');
    throw new Error(`no ffmpeg running under the recorder child (segment ${state}: ${error})`);
  }
  child.kill('SIGKILL');
  if (!keepFfmpeg) for (const pid of ffmpegPids) process.kill(pid, 'SIGKILL');
  await sleep(200);
  return { file, ffmpegPids };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(noFfmpeg)('crash safety: node and ffmpeg SIGKILLed mid-recording', () => {
  it.each(['vp8', 'h264', 'none'] as const)('%s: the file stays readable with a duration', async (video) => {
    const { file } = await recordThenKill(video);
    const probe = ffprobe(file);
    expect(probe.duration).toBeGreaterThan(1);
    expect(probe.streams.length).toBe(video === 'none' ? 1 : 2);
  });

  it('node SIGKILLed alone: ffmpeg sees the feed close at once and finalises the file (cues)', async () => {
    const { file, ffmpegPids } = await recordThenKill('vp8', true);
    for (let i = 0; i < 50 && ffmpegPids.some(alive); i++) await sleep(100);
    expect(ffmpegPids.filter(alive)).toEqual([]); // well before the 10 s input timeout
    const probe = ffprobe(file);
    expect(probe.duration).toBeGreaterThan(1);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    expect(hasCues(file)).toBe(true);
  });
});
