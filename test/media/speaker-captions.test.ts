import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatVtt, mixdown, speakerCues, speechIntervals, vttTimestamp, type MixdownProgress, type Sidecar } from '../../src/media/index.js';
import { noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { syntheticMeeting } from '../helpers/synthetic-meeting.js';

const run = promisify(execFile);

const base: Sidecar = {
  version: 1,
  room: 'r',
  startedAt: 10_000,
  stoppedAt: 20_000,
  files: [],
  events: [
    { participantId: 'a', name: 'Alice', time: 10_000, event: 'join' },
    { participantId: 'b', name: 'Bob <admin> & co', time: 10_000, event: 'join' },
    { participantId: 'b', time: 16_000, event: 'leave' },
  ],
  speakerTimeline: [
    { participantId: 'a', talking: true, time: 11_000 },
    { participantId: 'b', talking: true, time: 12_000 },
    { participantId: 'a', talking: false, time: 13_000 },
    { participantId: 'a', talking: false, time: 13_500 }, // repeated "stopped": no effect
    { participantId: 'a', talking: true, time: 18_000 }, // talks until the meeting ends
  ],
};

describe('speaker captions', () => {
  it('turns Talking changes into intervals closed by stop, leave or the meeting end', () => {
    expect(speechIntervals(base)).toEqual([
      { participantId: 'a', from: 11_000, to: 13_000 },
      { participantId: 'b', from: 12_000, to: 16_000 }, // Bob left while talking
      { participantId: 'a', from: 18_000, to: 20_000 },
    ]);
  });

  it('makes one cue per change of who speaks, relative to the mix origin', () => {
    expect(speakerCues(base, 10_500)).toEqual([
      { startMs: 500, endMs: 1500, speakers: ['Alice'] },
      { startMs: 1500, endMs: 2500, speakers: ['Alice', 'Bob <admin> & co'] },
      { startMs: 2500, endMs: 5500, speakers: ['Bob <admin> & co'] },
      { startMs: 7500, endMs: 9500, speakers: ['Alice'] },
    ]);
  });

  it('formats WebVTT with escaped names', () => {
    const vtt = formatVtt(speakerCues(base, 10_000));
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt).toContain('00:00:02.000 --> 00:00:03.000\nAlice, Bob &lt;admin&gt; &amp; co\n');
    expect(vtt).not.toContain('<admin>');
    expect(vttTimestamp(3_723_004)).toBe('01:02:03.004');
  });
});

describe.skipIf(noFfmpeg)('mix-down with captions', () => {
  it('writes speakers.vtt, muxes it as a WebVTT subtitle track and reports progress', async () => {
    const meeting = await syntheticMeeting(await mkdtemp(join(tmpdir(), 'captions-')));
    const progress: MixdownProgress[] = [];
    const result = await mixdown(meeting.dir, { cellWidth: 160, cellHeight: 90, fps: 10, onProgress: (p) => progress.push(p) });
    expect(result.captions).toBe(join(meeting.dir, 'speakers.vtt'));
    const vtt = await readFile(result.captions!, 'utf8');
    expect(vtt).toContain('00:00:00.500 --> 00:00:01.500\nAlice\n');
    expect(vtt).toContain('00:00:01.500 --> 00:00:02.000\nAlice, Bob\n');
    expect(vtt).toContain('00:00:02.000 --> 00:00:03.500\nBob\n');
    const media = await probe(result.file);
    expect(media.streams.map((s) => `${s.codec_type}/${s.codec_name}`).sort()).toEqual(['audio/opus', 'subtitle/webvtt', 'video/vp8']);
    // The muxed track carries the cues: ffmpeg extracts them again.
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', result.file, '-map', '0:s', '-f', 'webvtt', '-']);
    expect(stdout).toContain('Alice, Bob');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.durationMs).toBe(4000);
    expect(progress.at(-1)!.fraction).toBeGreaterThan(0.5);
  }, 60_000);
});
