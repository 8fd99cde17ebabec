import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { participantNames, readSidecar, type Sidecar } from '../media/index.js';
import { isSafeSegment } from './recordings-path.js';
import { meetingTimeline, type MeetingTimeline } from './timeline.js';

/** A participant file that could not be recorded to the end. */
export interface MeetingFailure {
  participant: string;
  file: string;
  error: string;
}

/** One meeting in the list. */
export interface MeetingSummary {
  /** `<room folder>/<start folder>`, relative to the recordings directory. */
  id: string;
  room: string;
  startedAt: number;
  stoppedAt?: number;
  durationMs: number;
  participants: string[];
  /** Bytes of the recorded files (and the mix-down). */
  sizeBytes: number;
  /**
   * `recording` (a bot of this process records it), `finished`, `unfinished` (no stop time: still
   * recording elsewhere, or the recorder was killed), `unreadable` (meeting.json is broken).
   */
  state: 'recording' | 'finished' | 'unfinished' | 'unreadable';
  failures: MeetingFailure[];
  /** Why meeting.json could not be read. */
  error?: string;
  /** File name of the mix-down, when there is one. */
  mix?: string;
}

/** A page of the meetings list, newest first. */
export interface MeetingPage {
  meetings: MeetingSummary[];
  page: number;
  pageSize: number;
  total: number;
}

/** A recorded file of a meeting, with where the page gets it. */
export interface MeetingFile {
  participantId: string;
  name: string;
  file: string;
  url: string;
  sizeBytes: number;
  kinds: string[];
  codecs: string[];
  segment: number;
  state: string;
  error?: string;
}

/** Everything the meeting page shows. */
export interface MeetingDetail extends MeetingSummary {
  files: MeetingFile[];
  timeline: MeetingTimeline;
  mixFile?: { file: string; url: string; sizeBytes: number; captionsUrl?: string };
}

const MIX_FILES = ['mix.webm', 'mix.ogg'];
const CAPTIONS = 'speakers.vtt';

/** URL of a file of meeting `id` under the console's `files/` route, relative to the page (works behind a path prefix). Pure. */
export function fileUrl(id: string, file: string): string {
  return `files/${[...id.split('/'), file].map(encodeURIComponent).join('/')}`;
}

/** The start time a meeting folder is named after (`2026-11-25T18-02-39.886Z`), if it is one. Pure. */
export function startFromFolder(name: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2}(?:\.\d+)?)Z$/.exec(name);
  const time = m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) : NaN;
  return Number.isNaN(time) ? undefined : time;
}

async function regularSize(path: string): Promise<number | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isFile() ? stats.size : undefined;
}

async function subdirs(dir: string): Promise<string[]> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // Symlinked folders are not followed: the archive is what lies in the recordings directory.
  return entries.filter((e) => e.isDirectory() && isSafeSegment(e.name)).map((e) => e.name);
}

/** Options of a {@link MeetingsIndex}. */
export interface MeetingsIndexOptions {
  /** Absolute directories being recorded right now (shown as `recording`). @defaultValue none */
  recordingDirs?: () => ReadonlySet<string>;
}

/**
 * The recordings directory as meetings: every `<room>/<start>/meeting.json`, read through the
 * sidecar reader (a broken one is listed as `unreadable`, never thrown), newest first and paged.
 * Finished meetings are cached by their sidecar's modification time.
 */
export class MeetingsIndex {
  readonly root: string;
  readonly #options: MeetingsIndexOptions;
  readonly #cache = new Map<string, { mtimeMs: number; sidecar: Sidecar }>();

  constructor(root: string, options: MeetingsIndexOptions = {}) {
    this.root = resolve(root);
    this.#options = options;
  }

  async #sidecar(id: string): Promise<Sidecar | Error> {
    const path = join(this.root, id, 'meeting.json');
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isFile()) return new Error('meeting.json is missing or not a regular file');
    const cached = this.#cache.get(id);
    if (cached && cached.mtimeMs === stats.mtimeMs) return cached.sidecar;
    try {
      const sidecar = await readSidecar(path);
      this.#cache.set(id, { mtimeMs: stats.mtimeMs, sidecar });
      return sidecar;
    } catch (error) {
      return error as Error;
    }
  }

  /** Ids of every meeting folder (one with a meeting.json). */
  async #ids(): Promise<string[]> {
    const ids: string[] = [];
    for (const room of await subdirs(this.root)) {
      for (const start of await subdirs(join(this.root, room))) {
        if ((await regularSize(join(this.root, room, start, 'meeting.json'))) !== undefined) ids.push(`${room}/${start}`);
      }
    }
    return ids;
  }

  async #summary(id: string, now: number): Promise<MeetingSummary & { sidecar?: Sidecar }> {
    const dir = join(this.root, id);
    const sidecar = await this.#sidecar(id);
    if (sidecar instanceof Error) {
      const [room, start] = id.split('/') as [string, string];
      const startedAt = startFromFolder(start) ?? (await lstat(dir).catch(() => undefined))?.mtimeMs ?? 0;
      return { id, room, startedAt, durationMs: 0, participants: [], sizeBytes: 0, state: 'unreadable', failures: [], error: sidecar.message };
    }
    const names = participantNames(sidecar);
    const sizes = await Promise.all(sidecar.files.map((f) => (isSafeSegment(f.file) ? regularSize(join(dir, f.file)) : undefined)));
    const mixSizes = await Promise.all(MIX_FILES.map((f) => regularSize(join(dir, f))));
    const mixAt = mixSizes.findIndex((s) => s !== undefined);
    const recording = this.#options.recordingDirs?.().has(dir) ?? false;
    const state = recording ? 'recording' : sidecar.stoppedAt !== undefined ? 'finished' : 'unfinished';
    const end = sidecar.stoppedAt ?? (recording ? now : Math.max(sidecar.startedAt, ...sidecar.files.map((f) => f.stoppedAt ?? f.startedAt)));
    return {
      id,
      room: sidecar.room,
      startedAt: sidecar.startedAt,
      ...(sidecar.stoppedAt !== undefined ? { stoppedAt: sidecar.stoppedAt } : {}),
      durationMs: Math.max(0, end - sidecar.startedAt),
      participants: [...new Set(sidecar.files.map((f) => names.get(f.participantId)!))],
      sizeBytes: [...sizes, ...mixSizes].reduce<number>((sum, s) => sum + (s ?? 0), 0),
      state,
      failures: sidecar.files
        .filter((f) => f.state === 'failed')
        .map((f) => ({ participant: names.get(f.participantId)!, file: f.file, error: f.error ?? 'failed' })),
      ...(mixAt >= 0 ? { mix: MIX_FILES[mixAt] } : {}),
      sidecar,
    };
  }

  /** One page of meetings, newest first. `page` is 1-based. */
  async list(page = 1, pageSize = 20): Promise<MeetingPage> {
    const now = Date.now();
    const all = await Promise.all((await this.#ids()).map((id) => this.#summary(id, now)));
    all.sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id));
    const size = Math.max(1, Math.min(200, Math.floor(pageSize)));
    const at = Math.max(1, Math.floor(page));
    const meetings = all.slice((at - 1) * size, at * size).map(({ sidecar: _, ...summary }) => summary);
    return { meetings, page: at, pageSize: size, total: all.length };
  }

  /** A meeting's page data, or undefined when `room`/`start` name no meeting. */
  async get(room: string, start: string): Promise<MeetingDetail | undefined> {
    const dir = await this.dirOf(room, start);
    if (!dir) return undefined;
    const id = `${room}/${start}`;
    const now = Date.now();
    const { sidecar, ...summary } = await this.#summary(id, now);
    if (!sidecar) return { ...summary, files: [], timeline: { durationMs: 0, lanes: [], gaps: [] } };
    const names = participantNames(sidecar);
    const files = await Promise.all(
      sidecar.files.map(async (f) => ({
        participantId: f.participantId,
        name: names.get(f.participantId)!,
        file: f.file,
        url: fileUrl(id, f.file),
        sizeBytes: (isSafeSegment(f.file) ? await regularSize(join(dir, f.file)) : undefined) ?? 0,
        kinds: f.kinds,
        codecs: f.codecs,
        segment: f.segment,
        state: f.state,
        ...(f.error ? { error: f.error } : {}),
      })),
    );
    let mixFile: MeetingDetail['mixFile'];
    if (summary.mix) {
      const hasCaptions = (await regularSize(join(dir, CAPTIONS))) !== undefined;
      mixFile = {
        file: summary.mix,
        url: fileUrl(id, summary.mix),
        sizeBytes: (await regularSize(join(dir, summary.mix))) ?? 0,
        ...(hasCaptions ? { captionsUrl: fileUrl(id, CAPTIONS) } : {}),
      };
    }
    return { ...summary, files, timeline: meetingTimeline(sidecar, summary.state === 'recording' ? now : undefined), ...(mixFile ? { mixFile } : {}) };
  }

  /** Absolute directory of a meeting, or undefined when it is not one. */
  async dirOf(room: string, start: string): Promise<string | undefined> {
    if (!isSafeSegment(room) || !isSafeSegment(start)) return undefined;
    return (await subdirs(join(this.root, room))).includes(start) ? join(this.root, room, start) : undefined;
  }
}
