import type { Sidecar } from './sidecar.js';

/**
 * Where and why a meeting recording continues in a directory another process started (a fleet
 * worker that died or handed the meeting over).
 */
export interface MeetingResume {
  /** The existing meeting directory (holds `meeting.json`). */
  dir: string;
  /** Unix ms when the previous recorder was last known to record (its last lease heartbeat). */
  gapFrom: number;
  /** Why there is a gap, in words. @defaultValue `'recorder changed'` */
  reason?: string;
}

/** A participant's files so far: the next segment continues its name and numbering. */
export interface ResumedParticipant {
  baseName: string;
  /** Highest segment index already in the sidecar. */
  segments: number;
}

/** File name without extension and without the `.N` segment suffix (`Alice.3.webm` → `Alice`). Pure. */
export function fileBaseName(file: string, segment: number): string {
  const stem = file.replace(/\.[^./\\]+$/, '');
  const suffix = `.${segment}`;
  return segment > 1 && stem.endsWith(suffix) ? stem.slice(0, -suffix.length) : stem;
}

/**
 * Prepares a previous recorder's sidecar for continuing: files it left `recording` are closed at
 * `gapFrom` (`interrupted` when `fileWritten(file)` says bytes reached the disk, `failed` otherwise),
 * the gap up to `now` is appended to `gaps`, `stoppedAt` is cleared; returns each participant's
 * base name and last segment so new files go on as `name.N+1.ext`. Mutates `data`. Pure otherwise.
 */
export function continueSidecar(
  data: Sidecar,
  resume: MeetingResume,
  now: number,
  fileWritten: (file: string) => boolean,
): Map<string, ResumedParticipant> {
  const resumed = new Map<string, ResumedParticipant>();
  for (const file of data.files) {
    if (file.state === 'recording') {
      file.stoppedAt = resume.gapFrom;
      if (fileWritten(file.file)) Object.assign(file, { state: 'interrupted', error: 'the recorder was lost while writing this file; the meeting continues in the next segment' });
      else Object.assign(file, { state: 'failed', error: 'the recorder was lost before this file got any media' });
    }
    const prev = resumed.get(file.participantId);
    if (!prev || file.segment > prev.segments) {
      resumed.set(file.participantId, { baseName: prev?.baseName ?? fileBaseName(file.file, file.segment), segments: file.segment });
    }
  }
  delete data.stoppedAt;
  (data.gaps ??= []).push({ from: resume.gapFrom, to: now, reason: resume.reason ?? 'recorder changed' });
  return resumed;
}
