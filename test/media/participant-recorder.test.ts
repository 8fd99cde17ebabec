import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { RtpPacket } from 'werift/nonstandard';
import { afterEach, describe, expect, it } from 'vitest';
import { ParticipantRecorder } from '../../src/media/participant-recorder.js';
import type { RemoteTrackSource } from '../../src/media/types.js';
import { noFfmpeg } from '../helpers/env.js';
import { audioOnlyExt } from './helpers/features.js';
import { ffprobe, hasCues } from './helpers/ffprobe.js';
import { fixture, sleep, startSyntheticCall, type SyntheticCall } from './helpers/synthetic-call.js';
import { RtpReplayer } from './helpers/rtp-fixture.js';

const tmp = () => mkdtemp(join(tmpdir(), 'rec-'));

describe.skipIf(noFfmpeg)('ParticipantRecorder (werift loopback, real ffmpeg)', () => {
  let call: SyntheticCall | undefined;
  afterEach(async () => {
    await call?.close();
    call = undefined;
  });

  async function record(video: 'vp8' | 'h264' | undefined, ms: number) {
    call = await startSyntheticCall({ video });
    const recorder = new ParticipantRecorder({ dir: await tmp(), baseName: 'alice', participantId: 'p1' });
    const errors: unknown[] = [];
    recorder.error$.subscribe((e) => errors.push(e));
    const started = await recorder.startSegment(call.sources);
    expect(started?.error).toBeUndefined();
    expect(started?.state).toBe('recording');
    await sleep(ms);
    const [segment] = await recorder.stop();
    expect(errors).toEqual([]);
    return { segment: segment!, recorder, expectedS: (segment!.stoppedAt! - segment!.startedAt) / 1000 };
  }

  it('records Opus + VP8 to .webm with duration and cues', async () => {
    const { segment, recorder, expectedS } = await record('vp8', 5000);
    expect(segment.file.endsWith('alice.webm')).toBe(true);
    expect(segment.state).toBe('finished');
    const probe = ffprobe(segment.file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    expect(Math.abs(probe.duration - expectedS)).toBeLessThanOrEqual(1);
    expect(hasCues(segment.file)).toBe(true);
    expect(segment.firstSampleTime).toBeGreaterThan(segment.startedAt - 1000);
    const stats = recorder.stats;
    expect(stats.packetsReceived).toBeGreaterThan(200);
    expect(stats.packetsLost).toBe(0);
    expect(stats.bytesWritten).toBeGreaterThan(10_000);
    expect(stats.keyframeRequests).toBeGreaterThan(0);
  });

  it('records Opus + H264 to .mkv', async () => {
    const { segment, expectedS } = await record('h264', 4000);
    expect(segment.file.endsWith('alice.mkv')).toBe(true);
    const probe = ffprobe(segment.file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
    expect(Math.abs(probe.duration - expectedS)).toBeLessThanOrEqual(1);
  });

  it('records audio only to .ogg (.webm with ffmpeg < 5.0)', async () => {
    const { segment, expectedS } = await record(undefined, 3000);
    expect(segment.file.endsWith(`alice.${await audioOnlyExt()}`)).toBe(true);
    const probe = ffprobe(segment.file);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['opus']);
    expect(Math.abs(probe.duration - expectedS)).toBeLessThanOrEqual(1);
  });
});

/** An Opus source fed by hand. */
function subjectSource(ssrc = 2222): { source: RemoteTrackSource; rtp$: Subject<RtpPacket> } {
  const rtp$ = new Subject<RtpPacket>();
  const source: RemoteTrackSource = {
    kind: 'audio',
    codec: { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 },
    ssrc,
    participantId: 'p1',
    rtp$,
    requestKeyframe: async () => undefined,
  };
  return { source, rtp$ };
}

describe.skipIf(noFfmpeg)('ParticipantRecorder (synthetic source)', () => {
  it('keeps one file across an SSRC change, with stitched timestamps', async () => {
    const media = await fixture('none');
    const { source, rtp$ } = subjectSource();
    let ssrc = 2222;
    let seqShift = 0;
    const replayer = new RtpReplayer();
    replayer.add(media.audio!, (data) => {
      const packet = RtpPacket.deSerialize(data);
      packet.header.ssrc = ssrc;
      packet.header.sequenceNumber = (packet.header.sequenceNumber + seqShift) & 0xffff;
      rtp$.next(packet);
    });
    const recorder = new ParticipantRecorder({ dir: await tmp(), baseName: 'bob', participantId: 'p1' });
    await recorder.startSegment([source]);
    replayer.start();
    await sleep(2000);
    ssrc = 3333; // the sender restarted its stream: new SSRC, unrelated sequence numbers
    seqShift = 12345;
    await sleep(2000);
    const [segment] = await recorder.stop();
    replayer.stop();
    rtp$.complete();
    expect(recorder.segments).toHaveLength(1);
    const probe = ffprobe(segment!.file);
    expect(probe.duration).toBeGreaterThan(3);
    expect(probe.duration).toBeLessThan(5.5);
    expect(recorder.stats.packetsLost).toBe(0);
  });

  it('reports a failure on error$ when ffmpeg cannot write, without throwing', async () => {
    const { source } = subjectSource(1);
    const recorder = new ParticipantRecorder({ dir: '/nonexistent-dir-for-test', baseName: 'x', participantId: 'p1' });
    const errors: Error[] = [];
    recorder.error$.subscribe((e) => errors.push(e));
    const segment = await recorder.startSegment([source]);
    expect(segment).toBeUndefined();
    expect(recorder.state).toBe('failed');
    expect(errors).toHaveLength(1);
    await recorder.stop();
  });

  it('marks a segment failed, not finished, when no media arrived before stop', async () => {
    const { source } = subjectSource();
    const recorder = new ParticipantRecorder({ dir: await tmp(), baseName: 'silent', participantId: 'p1' });
    await recorder.startSegment([source]);
    await sleep(1500);
    const [segment] = await recorder.stop();
    expect(segment!.state).toBe('failed');
    expect(segment!.error).toMatch(/no media/);
  });

  it('finishes the file by itself when the input stops for 10 s', async () => {
    const media = await fixture('none');
    const { source, rtp$ } = subjectSource();
    const replayer = new RtpReplayer();
    replayer.add(media.audio!, (data) => rtp$.next(RtpPacket.deSerialize(data)));
    const recorder = new ParticipantRecorder({ dir: await tmp(), baseName: 'quiet', participantId: 'p1' });
    await recorder.startSegment([source]);
    replayer.start();
    await sleep(2000);
    replayer.stop();
    await sleep(12_000);
    expect(recorder.recording).toBe(false);
    const [first] = recorder.segments;
    expect(first!.state).toBe('finished');
    expect(ffprobe(first!.file).duration).toBeGreaterThan(1.5);
    await recorder.stop();
  }, 30_000);
});
