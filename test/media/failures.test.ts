import { execFileSync } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaError } from '../../src/media/errors.js';
import { ParticipantRecorder } from '../../src/media/participant-recorder.js';
import { noFfmpeg } from '../helpers/env.js';
import { waitUntil } from '../helpers/poll.js';
import { ffprobe, hasCues } from './helpers/ffprobe.js';
import { sleep, startSyntheticCall, type SyntheticCall } from './helpers/synthetic-call.js';

/** ffmpeg processes that are children of this process. */
function ffmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).toString().trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

describe.skipIf(noFfmpeg)('recorder failures are reported, never thrown, and lose no more than they must', () => {
  let call: SyntheticCall | undefined;
  afterEach(async () => {
    await call?.close();
    call = undefined;
  });

  it('a full disk is reported as DISK_FULL and marks the recorder failed', async () => {
    call = await startSyntheticCall({ video: 'vp8' });
    const dir = await mkdtemp(join(tmpdir(), 'full-'));
    // Every write to /dev/full fails with ENOSPC, as on a full file system.
    await symlink('/dev/full', join(dir, 'alice.webm'));
    const recorder = new ParticipantRecorder({ dir, baseName: 'alice', participantId: 'p1' });
    const errors: MediaError[] = [];
    recorder.error$.subscribe((e) => errors.push(e));
    await recorder.startSegment(call.sources);
    await waitUntil(() => errors.length, (n) => n > 0, 15_000, 'an error');
    expect(errors[0]!.code).toBe('DISK_FULL');
    expect(errors[0]!.message).toMatch(/free space/);
    expect(recorder.state).toBe('failed');
    const segments = await recorder.stop();
    expect(segments.map((s) => s.state)).toEqual(['failed']);
  });

  it('an ffmpeg killed mid-recording is reported, its file stays readable, and recording goes on in a new segment', async () => {
    call = await startSyntheticCall({ video: 'vp8' });
    const dir = await mkdtemp(join(tmpdir(), 'killed-'));
    const recorder = new ParticipantRecorder({ dir, baseName: 'bob', participantId: 'p1', restartDelayMs: 200 });
    const errors: MediaError[] = [];
    recorder.error$.subscribe((e) => errors.push(e));
    await recorder.startSegment(call.sources);
    await sleep(3000);
    const before = ffmpegChildren();
    expect(before).toHaveLength(1);
    process.kill(before[0]!, 'SIGKILL');
    await waitUntil(() => recorder.segments[1]?.state, (s) => s === 'recording', 15_000, 'a second segment');
    expect(errors.map((e) => e.code)).toEqual(['FFMPEG_CRASHED']);
    expect(recorder.state).toBe('recording');
    await sleep(3000);
    const [first, second] = await recorder.stop();
    // Judged by what it wrote: cluster-flushed, readable after the kill, so not 'failed'.
    expect(first!.state).toBe('interrupted');
    expect(first!.error).toMatch(/SIGKILL/);
    expect(ffprobe(first!.file).duration).toBeGreaterThan(1.5);
    expect(second!.state).toBe('finished');
    expect(second!.file.endsWith('bob.2.webm')).toBe(true);
    const probe = ffprobe(second!.file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    expect(probe.duration).toBeGreaterThan(2);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('an ffmpeg that got %s from someone else finished a playable file: not failed', async (signal) => {
    call = await startSyntheticCall({ video: 'vp8' });
    const dir = await mkdtemp(join(tmpdir(), 'signalled-'));
    const recorder = new ParticipantRecorder({ dir, baseName: 'carol', participantId: 'p1', restartDelayMs: 200 });
    const errors: MediaError[] = [];
    recorder.error$.subscribe((e) => errors.push(e));
    await recorder.startSegment(call.sources);
    await sleep(3000);
    const [pid] = ffmpegChildren();
    process.kill(pid!, signal);
    await waitUntil(() => recorder.segments[1]?.state, (s) => s === 'recording', 15_000, 'a second segment');
    const [first] = await recorder.stop();
    expect(first!.state).toBe('finished'); // ffmpeg wrote its index before exiting with 255
    expect(first!.error).toMatch(/signal/);
    expect(errors).toHaveLength(1);
    const probe = ffprobe(first!.file);
    expect(probe.duration).toBeGreaterThan(1.5);
    expect(hasCues(first!.file)).toBe(true);
  });
});
