import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sidecar } from '../../src/media/index.js';

const run = promisify(execFile);

/** A recording folder made by ffmpeg from test sources, laid out like the recorder's. */
export interface SyntheticMeeting {
  /** `<root>/<room>/<start>`. */
  dir: string;
  /** Path relative to the root: `<room>/<start>`. */
  id: string;
  sidecar: Sidecar;
}

/** A short VP8+Opus WebM: a test picture and a tone. */
async function testClip(path: string, seconds: number, toneHz: number): Promise<void> {
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=10:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${toneHz}:duration=${seconds}`],
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '10'],
    ...['-c:a', 'libopus', '-b:a', '32k', '-shortest', path],
  ]);
}

/**
 * Alice (4 s, from +0 s) and Bob (3 s, from +1 s) in `<root>/synthetic_room/<start>`, with joins,
 * leaves and a speaker timeline: Alice talks 0.5-2 s, Bob 1.5-3.5 s (overlap 1.5-2 s).
 */
export async function syntheticMeeting(root: string, start = Date.UTC(2026, 0, 2, 10, 0, 0)): Promise<SyntheticMeeting> {
  const id = `synthetic_room/${new Date(start).toISOString().replace(/:/g, '-')}`;
  const dir = join(root, id);
  await mkdir(dir, { recursive: true });
  await Promise.all([testClip(join(dir, 'Alice.webm'), 4, 440), testClip(join(dir, 'Bob.webm'), 3, 660)]);
  const at = (s: number) => start + s * 1000;
  const file = (participantId: string, name: string, from: number, to: number) => ({
    participantId,
    participantName: name,
    file: `${name}.webm`,
    codecs: ['audio/OPUS', 'video/VP8'],
    kinds: ['audio', 'video'] as ('audio' | 'video')[],
    firstSampleTime: at(from),
    firstSampleSource: 'arrival' as const,
    segment: 1,
    startedAt: at(from),
    stoppedAt: at(to),
    state: 'finished' as const,
  });
  const sidecar: Sidecar = {
    version: 1,
    room: 'synthetic room',
    startedAt: start,
    stoppedAt: at(4.2),
    files: [file('alice-id', 'Alice', 0, 4), file('bob-id', 'Bob', 1, 4)],
    events: [
      { participantId: 'alice-id', name: 'Alice', time: at(0), event: 'join' },
      { participantId: 'bob-id', name: 'Bob', time: at(1), event: 'join' },
      { participantId: 'bob-id', name: 'Bob', time: at(4), event: 'leave' },
      { participantId: 'alice-id', name: 'Alice', time: at(4.1), event: 'leave' },
    ],
    speakerTimeline: [
      { participantId: 'alice-id', talking: true, time: at(0.5) },
      { participantId: 'bob-id', talking: true, time: at(1.5) },
      { participantId: 'alice-id', talking: false, time: at(2) },
      { participantId: 'bob-id', talking: false, time: at(3.5) },
    ],
  };
  await writeFile(join(dir, 'meeting.json'), JSON.stringify(sidecar, null, 2) + '\n');
  return { dir, id, sidecar };
}
