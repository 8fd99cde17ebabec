import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ReplaySubject, Subject, type Observable } from 'rxjs';
import type { MediaError } from './errors.js';
import type { FfmpegInfo } from './ffmpeg.js';
import { detectFfmpegFeatures } from './ffmpeg-features.js';
import { locateFfmpeg } from './ffmpeg-locate.js';
import { fsSafeName, fsSafeTime, uniqueName } from './names.js';
import { ParticipantRecorder, type SegmentInfo } from './participant-recorder.js';
import { continueSidecar, type MeetingResume, type ResumedParticipant } from './meeting-resume.js';
import { SidecarWriter, readSidecar, type SidecarFile } from './sidecar.js';
import { repairSidecars } from './sidecar-repair.js';
import { addStats, emptyStats, type RecorderStats, type RemoteTrackSource } from './types.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Root dirs whose abandoned sidecars this process has repaired. */
const repairedRoots = new Set<string>();

/** Options for {@link MeetingRecorder.create}. */
export interface MeetingRecorderOptions {
  /** Room name; becomes a directory level (made file-system safe). */
  room: string;
  /** Root of all recordings. @defaultValue 'recordings' */
  rootDir?: string;
  /** Meeting start, names the directory. @defaultValue now */
  startTime?: Date;
  /** Record audio only. @defaultValue false */
  audioOnly?: boolean;
  /** Stop by itself after this long. @defaultValue unlimited */
  maxDurationMs?: number;
  /** How long to collect a participant's tracks before opening a file, so audio and video land in one file. @defaultValue 300 */
  settleMs?: number;
  /** Sidecar write debounce. @defaultValue 500 */
  sidecarDebounceMs?: number;
  /**
   * Continue the meeting in this existing directory (fleet hand-over): its `meeting.json` is kept,
   * the gap is noted in `gaps`, and every participant goes on with its next segment (`name.N.ext`).
   * `room` and `startTime` then come from the existing sidecar. @defaultValue a new meeting
   */
  resume?: MeetingResume;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

/** What a finished meeting recording consists of. */
export interface MeetingRecording {
  dir: string;
  files: SidecarFile[];
  sidecarPath: string;
}

/** A participant's recording failed (their others and everyone else's go on). */
export interface ParticipantError {
  participantId: string;
  error: MediaError;
}

interface ParticipantEntry {
  recorder?: ParticipantRecorder;
  name?: string;
  pending: RemoteTrackSource[];
  settleTimer?: NodeJS.Timeout;
}

/**
 * Records a meeting: one {@link ParticipantRecorder} per participant, files under
 * `<rootDir>/<room>/<start ISO>/<name>.<ext>`, and `meeting.json` (see `sidecarSchema`) kept up to
 * date with files, joins/leaves and who talks when.
 */
export class MeetingRecorder {
  readonly dir: string;
  readonly sidecarPath: string;
  private readonly sidecar: SidecarWriter;
  private readonly participants = new Map<string, ParticipantEntry>();
  /** Screen-share recorders by sharer (one file per share: `name.screen.webm`, `name.screen.2.webm`, …). */
  private readonly screens = new Map<string, ParticipantRecorder>();
  private readonly baseNames = new Set<string>();
  private resumed = new Map<string, ResumedParticipant>();
  private readonly errors = new Subject<ParticipantError>();
  private readonly done = new ReplaySubject<MeetingRecording>(1);
  private readonly logger: Logger;
  private maxTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<MeetingRecording> | undefined;

  /** Participant recordings that failed. */
  readonly error$: Observable<ParticipantError> = this.errors.asObservable();
  /** Emits once, when {@link stop} has finalised everything. */
  readonly finalized$: Observable<MeetingRecording> = this.done.asObservable();

  private constructor(private readonly options: MeetingRecorderOptions, startTime: Date) {
    this.dir = options.resume?.dir ?? join(options.rootDir ?? 'recordings', fsSafeName(options.room, 'room'), fsSafeTime(startTime));
    this.sidecarPath = join(this.dir, 'meeting.json');
    this.sidecar = new SidecarWriter(this.sidecarPath, options.room, startTime.getTime(), options.sidecarDebounceMs ?? 500);
    this.logger = (options.logger ?? silentLogger).child({ room: options.room });
  }

  /**
   * Finds ffmpeg and detects its features in the background (both cached per process), so the
   * first file of a recording starts at once: detection takes seconds on a busy machine, and a
   * screen share or a participant's first seconds would be lost waiting for it. Never rejects.
   */
  static warmUp(ffmpeg?: FfmpegInfo): Promise<void> {
    return (ffmpeg ? Promise.resolve(ffmpeg) : locateFfmpeg()).then((b) => detectFfmpegFeatures(b.path)).then(
      () => undefined,
      () => undefined, // no ffmpeg: the first file says so
    );
  }

  /** Creates the directory and the first `meeting.json`. */
  static async create(options: MeetingRecorderOptions): Promise<MeetingRecorder> {
    const recorder = new MeetingRecorder(options, options.startTime ?? new Date());
    await mkdir(recorder.dir, { recursive: true });
    if (options.resume) await recorder.continueFrom(options.resume);
    recorder.sidecar.update(() => undefined);
    await recorder.sidecar.flush();
    recorder.repairAbandonedSidecars(options.rootDir ?? 'recordings');
    if (options.maxDurationMs) recorder.maxTimer = setTimeout(() => void recorder.stop(), options.maxDurationMs);
    return recorder;
  }

  /** Takes over the previous recorder's sidecar (a missing or unreadable one starts afresh, with a warning). */
  private async continueFrom(resume: MeetingResume): Promise<void> {
    const previous = await readSidecar(this.sidecarPath).catch((error: Error) => {
      this.logger.warn({ dir: resume.dir, reason: error.message }, 'cannot read the meeting sidecar to continue; starting a new one in the same directory');
      return undefined;
    });
    if (!previous) return;
    const written = (file: string) => {
      try {
        return statSync(join(this.dir, file)).size > 0;
      } catch {
        return false;
      }
    };
    this.resumed = continueSidecar(previous, resume, Date.now(), written);
    for (const { baseName } of this.resumed.values()) this.baseNames.add(baseName);
    this.sidecar.update((d) => Object.assign(d, previous));
    this.logger.info({ dir: this.dir, participants: this.resumed.size }, 'continuing the meeting recording');
  }

  /**
   * After a SIGKILL the next start closes the sidecars a killed recorder left `recording` (once per
   * root dir and process, in the background; live writers' sidecars are left alone).
   */
  private repairAbandonedSidecars(rootDir: string): void {
    if (repairedRoots.has(rootDir)) return;
    repairedRoots.add(rootDir);
    void repairSidecars(rootDir).then((paths) => {
      for (const path of paths) this.logger.info({ sidecar: path }, 'closed a meeting.json a killed recorder left recording');
    });
  }

  /** Resolves when {@link stop} has finalised everything. */
  get finalized(): Promise<MeetingRecording> {
    return new Promise((resolve) => this.done.subscribe(resolve));
  }

  /** Counters summed over all participants. */
  get stats(): RecorderStats {
    const total = emptyStats();
    for (const p of this.participants.values()) if (p.recorder) addStats(total, p.recorder.stats);
    for (const screen of this.screens.values()) addStats(total, screen.stats);
    return total;
  }

  /** Records a join (and the display name used for file names). */
  join(participantId: string, name?: string, time = Date.now()): void {
    const entry = this.entry(participantId);
    if (name) entry.name = name;
    this.sidecar.update((d) => d.events.push({ time, event: 'join', name: entry.name, participantId }));
  }

  /**
   * Sets or changes a participant's display name (files already named keep their name); joins and
   * `Talking` changes recorded before the name was known get it too, so people can read the sidecar.
   */
  setName(participantId: string, name: string): void {
    const entry = this.entry(participantId);
    if (entry.name === name) return;
    entry.name = name;
    this.sidecar.update((d) => {
      for (const item of [...d.events, ...d.speakerTimeline]) if (item.participantId === participantId && !item.name) item.name = name;
    });
  }

  /** Records a leave and finishes the participant's current file; a rejoin opens `name.2.ext`. */
  leave(participantId: string, time = Date.now()): Promise<void> {
    const entry = this.entry(participantId);
    clearTimeout(entry.settleTimer);
    entry.pending = [];
    this.sidecar.update((d) => d.events.push({ time, event: 'leave', name: entry.name, participantId }));
    return entry.recorder?.endSegment().then(() => undefined) ?? Promise.resolve();
  }

  /** Records a `Talking` change. */
  talking(participantId: string, talking: boolean, time = Date.now()): void {
    const name = this.participants.get(participantId)?.name;
    this.sidecar.update((d) => d.speakerTimeline.push({ time, talking, name, participantId }));
  }

  /**
   * Adds a track. Tracks of one participant arriving within `settleMs` share a file; a track
   * arriving later starts the participant's next segment with all current tracks.
   */
  addSource(source: RemoteTrackSource): void {
    if (this.stopping) return;
    const entry = this.entry(source.participantId);
    entry.pending = [...entry.pending.filter((s) => s.kind !== source.kind), source];
    clearTimeout(entry.settleTimer);
    entry.settleTimer = setTimeout(() => this.startPending(source.participantId), this.options.settleMs ?? 300);
  }

  /** Removes a track (ended): the file goes on with the remaining tracks as a new segment, or ends. */
  removeSource(source: RemoteTrackSource): Promise<void> {
    const entry = this.entry(source.participantId);
    entry.pending = entry.pending.filter((s) => s !== source);
    const recorder = entry.recorder;
    if (!recorder?.currentSources.includes(source)) return Promise.resolve();
    const rest = recorder.currentSources.filter((s) => s !== source);
    return (rest.length ? recorder.startSegment(rest) : recorder.endSegment()).then(() => undefined);
  }

  /**
   * A screen share started: its video `source` is recorded (`-c copy`) to `<name>.screen.webm`
   * (a later share of the same participant to `<name>.screen.2.webm`) and the share is noted in
   * the sidecar's `screenShares`.
   */
  startScreenShare(participantId: string, token: string, source: RemoteTrackSource, time = Date.now()): void {
    if (this.stopping) return;
    this.sidecar.update((d) => (d.screenShares ??= []).push({ participantId, token, startedAt: time }));
    let recorder = this.screens.get(participantId);
    if (!recorder) {
      const name = fsSafeName(this.entry(participantId).name ?? participantId, fsSafeName(participantId, 'participant'));
      const base = uniqueName(`${name}.screen`, this.baseNames);
      this.baseNames.add(base);
      recorder = new ParticipantRecorder({ dir: this.dir, baseName: base, participantId, ffmpeg: this.options.ffmpeg, logger: this.logger });
      recorder.segment$.subscribe((info) => this.recordSegment(participantId, this.entry(participantId), info, true));
      recorder.error$.subscribe((error) => this.errors.next({ participantId, error }));
      this.screens.set(participantId, recorder);
    }
    void recorder.startSegment([source]);
  }

  /** A screen share ended (`{"m":"bye"}`, its connection closed, the call ended): finalises its file. */
  async stopScreenShare(participantId: string, token: string, time = Date.now()): Promise<void> {
    this.sidecar.update((d) => {
      const share = d.screenShares?.find((s) => s.participantId === participantId && s.token === token && s.stoppedAt === undefined);
      if (share) share.stoppedAt = time;
    });
    await this.screens.get(participantId)?.endSegment();
  }

  /** Finalises every file in parallel and writes the final sidecar. Idempotent. */
  stop(): Promise<MeetingRecording> {
    this.stopping ??= (async () => {
      clearTimeout(this.maxTimer);
      for (const entry of this.participants.values()) clearTimeout(entry.settleTimer);
      await Promise.all([...[...this.participants.values()].map((p) => p.recorder?.stop()), ...[...this.screens.values()].map((r) => r.stop())]);
      const end = Date.now();
      this.sidecar.update((d) => d.screenShares?.forEach((share) => (share.stoppedAt ??= end)));
      this.sidecar.update((d) => (d.stoppedAt = Date.now()));
      await this.sidecar.flush();
      const result = { dir: this.dir, files: this.sidecar.data.files, sidecarPath: this.sidecarPath };
      this.done.next(result);
      this.done.complete();
      this.errors.complete();
      return result;
    })();
    return this.stopping;
  }

  private entry(participantId: string): ParticipantEntry {
    let entry = this.participants.get(participantId);
    if (!entry) this.participants.set(participantId, (entry = { pending: [] }));
    return entry;
  }

  private startPending(participantId: string): void {
    const entry = this.entry(participantId);
    const pending = entry.pending;
    entry.pending = [];
    if (this.stopping || pending.length === 0) return;
    entry.recorder ??= this.createRecorder(participantId, entry);
    const kept = entry.recorder.currentSources.filter((s) => !pending.some((p) => p.kind === s.kind));
    void entry.recorder.startSegment([...kept, ...pending]);
  }

  private createRecorder(participantId: string, entry: ParticipantEntry): ParticipantRecorder {
    const previous = this.resumed.get(participantId);
    const base = previous?.baseName ?? uniqueName(fsSafeName(entry.name ?? participantId, fsSafeName(participantId, 'participant')), this.baseNames);
    this.baseNames.add(base);
    const recorder = new ParticipantRecorder({
      dir: this.dir,
      baseName: base,
      participantId,
      firstSegment: previous ? previous.segments + 1 : undefined,
      audioOnly: this.options.audioOnly,
      ffmpeg: this.options.ffmpeg,
      logger: this.logger,
    });
    recorder.segment$.subscribe((info) => this.recordSegment(participantId, entry, info));
    recorder.error$.subscribe((error) => this.errors.next({ participantId, error }));
    return recorder;
  }

  private recordSegment(participantId: string, entry: ParticipantEntry, info: SegmentInfo, screen = false): void {
    const file: SidecarFile = {
      participantId,
      participantName: entry.name,
      file: relative(this.dir, info.file),
      codecs: info.codecs,
      kinds: info.kinds,
      firstSampleTime: info.firstSampleTime,
      firstSampleSource: info.firstSampleSource,
      segment: info.index,
      startedAt: info.startedAt,
      stoppedAt: info.stoppedAt,
      state: info.state,
      error: info.error,
      ...(screen ? { screen } : {}),
    };
    this.sidecar.update((d) => {
      const at = d.files.findIndex((f) => f.participantId === participantId && f.segment === info.index && !!f.screen === screen);
      if (at >= 0) d.files[at] = file;
      else d.files.push(file);
    });
  }
}
