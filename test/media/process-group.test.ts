import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MeetingRecorder } from '../../src/media/meeting-recorder.js';
import { readSidecar, type SidecarFile } from '../../src/media/sidecar.js';
import { noFfmpeg } from '../helpers/env.js';
import { waitUntil } from '../helpers/poll.js';
import { ffprobe, hasCues } from './helpers/ffprobe.js';

const childScript = join(import.meta.dirname, 'fixtures', 'meeting-child.ts');

/** JSON lines a child prints, one per call. */
function lines(child: ChildProcess): () => Promise<Record<string, unknown>> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    queue.push(...parts.filter(Boolean));
    wake?.();
  });
  return async () => {
    while (queue.length === 0) {
      if (child.exitCode !== null) throw new Error(`meeting child exited (${child.exitCode})`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 500);
      });
    }
    return JSON.parse(queue.shift()!) as Record<string, unknown>;
  };
}

const ffmpegUnder = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-x', 'ffmpeg']).toString().trim().split('\n').map(Number);
  } catch {
    return [];
  }
};

describe.skipIf(noFfmpeg)('ffmpeg children and signals meant for the bot', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  /** Starts the meeting child in its own process group (as a terminal or systemd would see it). */
  async function startChild(onSignal: 'finalise' | 'none') {
    const root = await mkdtemp(join(tmpdir(), 'pgroup-'));
    const c = spawn(process.execPath, ['--import', 'tsx', childScript, root, onSignal], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    child = c;
    const next = lines(c);
    const ready = (await next()) as { ready: boolean; dir: string; sidecar: string };
    expect(ready.ready, 'media reached the file').toBe(true);
    return { root, next, ready, child: c };
  }

  // Starting a child with a werift call and its RTP fixture takes a while on a loaded machine.
  it.each(['SIGINT', 'SIGTERM'] as const)('%s to the whole process group reaches node only: the bot finalises a finished file, no ffmpeg error', { timeout: 150_000 }, async (signal) => {
    const { next, ready, child: c } = await startChild('finalise');
    process.kill(-c.pid!, signal); // what Ctrl-C in a terminal and systemd's stop do
    const result = (await next()) as { files: SidecarFile[]; errors: string[] };
    expect(result.errors).toEqual([]); // an ffmpeg hit by the signal would have died mid-recording
    expect(result.files.map((f) => [f.file, f.state])).toEqual([['Alice.webm', 'finished']]);
    const file = join(ready.dir, 'Alice.webm');
    expect(ffprobe(file).duration).toBeGreaterThan(1.5);
    expect(hasCues(file)).toBe(true);
  });

  it('after a SIGKILL the next recorder start repairs the sidecar left recording; the file plays', { timeout: 150_000 }, async () => {
    const { root, ready, child: c } = await startChild('none');
    const ffmpegs = ffmpegUnder(c.pid!);
    expect(ffmpegs).toHaveLength(1);
    c.kill('SIGKILL');
    // ffmpeg (its own process group, not killed with node) sees the feed close and finishes the file.
    await waitUntil(() => ffmpegs.filter(alive).length, (n) => n === 0, 15_000, 'ffmpeg to finish');
    expect((await readSidecar(ready.sidecar)).files[0]!.state).toBe('recording');
    const next = await MeetingRecorder.create({ room: 'next meeting', rootDir: root });
    try {
      const repaired = await waitUntil(() => readSidecar(ready.sidecar), (s) => s.stoppedAt !== undefined, 15_000, 'the repair');
      expect(repaired.repairedAt).toBeGreaterThan(0);
      expect(repaired.files.map((f) => [f.file, f.state])).toEqual([['Alice.webm', 'interrupted']]);
      const probe = ffprobe(join(ready.dir, 'Alice.webm'));
      expect(probe.duration).toBeGreaterThan(1);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    } finally {
      await next.stop();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
