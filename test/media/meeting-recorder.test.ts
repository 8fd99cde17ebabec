import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MeetingRecorder } from '../../src/media/meeting-recorder.js';
import { mixdown } from '../../src/media/mixdown.js';
import { readSidecar } from '../../src/media/sidecar.js';
import { noFfmpeg } from '../helpers/env.js';
import { audioOnlyExt } from './helpers/features.js';
import { ffprobe } from './helpers/ffprobe.js';
import { sleep, startSyntheticCall, type SyntheticCall } from './helpers/synthetic-call.js';

describe.skipIf(noFfmpeg)('MeetingRecorder', () => {
  const calls: SyntheticCall[] = [];
  afterEach(async () => {
    await Promise.all(calls.splice(0).map((c) => c.close()));
  });
  const call = async (options: Parameters<typeof startSyntheticCall>[0]) => {
    const c = await startSyntheticCall(options);
    calls.push(c);
    return c;
  };

  it('records participants, a leave/rejoin as two segments, the sidecar, and mixes it down', async () => {
    const root = await mkdtemp(join(tmpdir(), 'meeting-'));
    const meeting = await MeetingRecorder.create({ room: 'Team/Room 1', rootDir: root, settleMs: 200, sidecarDebounceMs: 50 });
    expect(meeting.dir.startsWith(join(root, 'Team_Room 1'))).toBe(true);
    const errors: unknown[] = [];
    meeting.error$.subscribe((e) => errors.push(e));

    meeting.join('a', 'Alice');
    const alice = await call({ video: 'vp8', participantId: 'a' });
    for (const s of alice.sources) meeting.addSource(s);
    meeting.join('b', 'Alice'); // same display name: files must not collide
    const bob1 = await call({ participantId: 'b' });
    for (const s of bob1.sources) meeting.addSource(s);
    meeting.talking('a', true);
    await sleep(3000);
    meeting.talking('a', false);
    await meeting.leave('b');
    await bob1.close();
    await sleep(500);
    meeting.join('b');
    const bob2 = await call({ participantId: 'b' });
    for (const s of bob2.sources) meeting.addSource(s);
    await sleep(2500);
    const result = await meeting.stop();
    expect(errors).toEqual([]);

    const sidecar = await readSidecar(result.sidecarPath);
    expect(sidecar.room).toBe('Team/Room 1');
    expect(sidecar.stoppedAt).toBeGreaterThan(sidecar.startedAt);
    const files = sidecar.files.map((f) => [f.participantId, f.file, f.segment, f.state]);
    const ext = await audioOnlyExt();
    expect(files).toEqual(
      expect.arrayContaining([
        ['a', 'Alice.webm', 1, 'finished'],
        ['b', `Alice-2.${ext}`, 1, 'finished'],
        ['b', `Alice-2.2.${ext}`, 2, 'finished'],
      ]),
    );
    expect(sidecar.files).toHaveLength(3);
    for (const f of sidecar.files) {
      expect(f.firstSampleTime).toBeGreaterThan(0);
      expect(ffprobe(join(result.dir, f.file)).duration).toBeGreaterThan(1);
    }
    expect(sidecar.events.map((e) => `${e.participantId}:${e.event}`)).toEqual(['a:join', 'b:join', 'b:leave', 'b:join']);
    expect(sidecar.speakerTimeline.map((t) => t.talking)).toEqual([true, false]);

    const firstSample = Math.min(...sidecar.files.map((f) => f.firstSampleTime!));
    const spanS = (Math.max(...sidecar.files.map((f) => f.stoppedAt!)) - firstSample) / 1000;
    const mix = await mixdown(result.dir);
    expect(mix.inputs).toHaveLength(3);
    const probe = ffprobe(mix.file);
    // The speaker timeline (Alice talked) becomes a muxed captions track.
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'subtitle', 'video']);
    expect(probe.duration).toBeGreaterThan(spanS - 1);
    expect(probe.duration).toBeLessThan(spanS + 1);
  });

  it('stops by itself after maxDurationMs and resolves finalized', async () => {
    const root = await mkdtemp(join(tmpdir(), 'meeting-'));
    const meeting = await MeetingRecorder.create({ room: 'r', rootDir: root, maxDurationMs: 2500, settleMs: 100, audioOnly: true });
    const c = await call({ video: 'vp8', participantId: 'x' });
    for (const s of c.sources) meeting.addSource(s);
    const result = await meeting.finalized;
    expect(result.files).toHaveLength(1);
    expect(result.files[0]!.kinds).toEqual(['audio']);
    expect(result.files[0]!.file).toBe(`x.${await audioOnlyExt()}`);
  });
});
