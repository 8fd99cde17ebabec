import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { z } from 'zod';
import { MediaError } from './errors.js';
import { formatSidecar } from './sidecar-format.js';

/** zod schema of one recorded file in `meeting.json`. */
export const sidecarFileSchema = z.object({
  participantId: z.string(),
  participantName: z.string().optional(),
  /** Path relative to the meeting directory. */
  file: z.string(),
  codecs: z.array(z.string()),
  kinds: z.array(z.enum(['audio', 'video'])),
  /** Unix ms of the first sample in the file. */
  firstSampleTime: z.number().optional(),
  /** Where firstSampleTime came from: the sender's RTCP SR (its clock) or our arrival time. */
  firstSampleSource: z.enum(['rtcp-sr', 'arrival']).optional(),
  /** 1-based segment index for this participant. */
  segment: z.number().int().positive(),
  startedAt: z.number(),
  stoppedAt: z.number().optional(),
  /**
   * `recording` while ffmpeg runs; `finished` when ffmpeg closed the file; `interrupted` when it was
   * killed or crashed but the file plays (from the last complete second); `failed` when nothing
   * playable was written. `error` says why a file ended early or failed.
   */
  state: z.enum(['recording', 'finished', 'interrupted', 'failed']),
  error: z.string().optional(),
  /** True for a screen share (`<name>.screen.webm`), absent for the participant's camera/microphone. */
  screen: z.boolean().optional(),
});

/**
 * zod schema of `meeting.json`, the sidecar readers can validate. Times are Unix ms; the file also
 * carries an ISO 8601 twin of each (`startedAtIso`, `timeIso`, …) and a `timeUnit` note, written by
 * `formatSidecar` and dropped when read.
 */
export const sidecarSchema = z.object({
  version: z.literal(1),
  room: z.string(),
  startedAt: z.number(),
  stoppedAt: z.number().optional(),
  /** The process writing the sidecar: a repair (after a SIGKILL) leaves a live writer's sidecar alone. */
  writer: z.object({ pid: z.number().int(), host: z.string() }).optional(),
  /** Set when `repairSidecar` closed a sidecar a killed recorder left `recording` (Unix ms). */
  repairedAt: z.number().optional(),
  files: z.array(sidecarFileSchema),
  /** Joins and leaves, with the display name when known. */
  events: z.array(
    z.object({ time: z.number(), event: z.enum(['join', 'leave']), name: z.string().optional(), participantId: z.string() }),
  ),
  /** `Talking` changes, with the display name when known. */
  speakerTimeline: z.array(z.object({ time: z.number(), talking: z.boolean(), name: z.string().optional(), participantId: z.string() })),
  /**
   * Stretches of the meeting nobody recorded: a fleet worker died or handed the meeting over, and
   * the next worker continued it as new segments (`from`/`to` Unix ms, `reason` in words).
   */
  gaps: z.array(z.object({ from: z.number(), to: z.number(), reason: z.string() })).optional(),
  /** Screen shares seen while recording: who shared, the share token, start and stop (Unix ms). */
  screenShares: z
    .array(z.object({ participantId: z.string(), token: z.string(), startedAt: z.number(), stoppedAt: z.number().optional() }))
    .optional(),
});

/** Contents of `meeting.json`. */
export type Sidecar = z.infer<typeof sidecarSchema>;
/** One entry of {@link Sidecar.files}. */
export type SidecarFile = z.infer<typeof sidecarFileSchema>;

/** Writes `data` to `path` atomically: a temp file in the same directory, then rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Reads and validates a sidecar; rejects with `INVALID_SIDECAR` naming the problem. */
export async function readSidecar(path: string): Promise<Sidecar> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new MediaError('INVALID_SIDECAR', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) throw new MediaError('INVALID_SIDECAR', `${path} is not a meeting sidecar: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Keeps a {@link Sidecar} in memory and writes it atomically after changes, at most every
 * `debounceMs`. Writes never overlap; `flush()` writes now and waits.
 * @defaultValue debounceMs 500
 */
export class SidecarWriter {
  readonly data: Sidecar;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private readonly writer = { pid: process.pid, host: hostname() };
  /** Last write error, if any (writes go on; the next one may succeed). */
  lastError: Error | undefined;

  constructor(
    readonly path: string,
    room: string,
    startedAt: number,
    private readonly debounceMs = 500,
  ) {
    this.data = { version: 1, room, startedAt, files: [], events: [], speakerTimeline: [] };
  }

  /** Applies `change` to the data and schedules a write. */
  update(change: (data: Sidecar) => void): void {
    change(this.data);
    this.dirty = true;
    this.timer ??= setTimeout(() => void this.flush(), this.debounceMs);
  }

  /** Writes pending changes now; resolves when on disk. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await mkdir(dirname(this.path), { recursive: true });
        // This process is the writer now (also of a meeting continued from another one).
        await writeFileAtomic(this.path, formatSidecar({ ...this.data, writer: this.writer }));
      } catch (err) {
        this.lastError = err as Error;
        this.dirty = true;
      }
    });
    return this.writing;
  }
}
