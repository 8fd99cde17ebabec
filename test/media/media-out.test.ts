import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { playFile, playSilence } from '../../src/media/media-out.js';
import { ParticipantRecorder } from '../../src/media/participant-recorder.js';
import { ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { ffprobe } from './helpers/ffprobe.js';
import { connectLoopback, type LoopbackCall } from './helpers/loopback.js';
import { sleep } from './helpers/synthetic-call.js';

describe.skipIf(noFfmpeg)('media out', () => {
  let call: LoopbackCall | undefined;
  afterEach(async () => {
    await call?.close();
  });

  it('plays a file into a werift track in real time; the far end records it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'out-'));
    const wav = join(dir, 'tone.wav');
    execFileSync(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=660:duration=3', '-y', wav]);
    call = await connectLoopback({ participantId: 'bot' });
    const silence = playSilence(call.tracks.audio!); // gets the receiver its track before the recorder starts
    await call.ready;
    await sleep(200);
    silence.stop();
    expect((await silence.done).packets).toBeGreaterThan(0);
    const recorder = new ParticipantRecorder({ dir, baseName: 'heard', participantId: 'bot' });
    await recorder.startSegment(call.sources);
    const started = Date.now();
    const playback = await playFile(wav, call.tracks.audio!);
    const { packets, error } = await playback.done;
    const tookMs = Date.now() - started;
    expect(error).toBeUndefined();
    expect(packets).toBeGreaterThanOrEqual(148); // 3 s of 20 ms frames
    expect(tookMs).toBeGreaterThan(2500); // paced, not dumped
    await sleep(300);
    const [segment] = await recorder.stop();
    const probe = ffprobe(segment!.file);
    expect(probe.streams[0]!.codec_name).toBe('opus');
    expect(probe.duration).toBeGreaterThan(2.5);
  });
});
