import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sidecar } from '../../src/media/index.js';

/**
 * Writes a meeting folder `<root>/<room>/<start>` with `meeting.json` and stand-in media files
 * (bytes, not media: for listing, access and Range tests that need no ffmpeg).
 */
export async function fakeMeeting(root: string, room: string, start: string, sidecar: Partial<Sidecar> & { startedAt: number }): Promise<string> {
  const dir = join(root, room, start);
  await mkdir(dir, { recursive: true });
  const full: Sidecar = { version: 1, room, files: [], events: [], speakerTimeline: [], ...sidecar };
  await writeFile(join(dir, 'meeting.json'), JSON.stringify(full));
  for (const f of full.files) await writeFile(join(dir, f.file), Buffer.alloc(1000 + f.segment, f.segment));
  return dir;
}

/** A finished file entry of a sidecar. */
export function finishedFile(participantId: string, name: string, file: string, startedAt: number, stoppedAt: number) {
  return {
    participantId,
    participantName: name,
    file,
    codecs: ['audio/opus', 'video/VP8'],
    kinds: ['audio', 'video'] as ('audio' | 'video')[],
    segment: 1,
    startedAt,
    stoppedAt,
    state: 'finished' as const,
  };
}
