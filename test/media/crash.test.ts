import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noFfmpeg } from '../helpers/env.js';
import { ffprobe } from './helpers/ffprobe.js';
import { sleep } from './helpers/synthetic-call.js';

const childScript = join(import.meta.dirname, 'fixtures', 'record-child.ts');

/** Runs the recorder child until it reports its file, then SIGKILLs it and its ffmpeg. */
async function recordThenKill(video: 'vp8' | 'h264' | 'none'): Promise<string> {
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
  for (const pid of ffmpegPids) process.kill(pid, 'SIGKILL');
  await sleep(200);
  return file;
}

describe.skipIf(noFfmpeg)('crash safety: node and ffmpeg SIGKILLed mid-recording', () => {
  it.each(['vp8', 'h264', 'none'] as const)('%s: the file stays readable with a duration', async (video) => {
    const file = await recordThenKill(video);
    const probe = ffprobe(file);
    expect(probe.duration).toBeGreaterThan(1);
    expect(probe.streams.length).toBe(video === 'none' ? 1 : 2);
  });
});
