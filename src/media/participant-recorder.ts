import { join } from 'node:path';
import { Subject, defaultIfEmpty, firstValueFrom, map, of, take, timeout, type Observable } from 'rxjs';
import { summarizeError, type MediaError } from './errors.js';
import type { FfmpegInfo } from './ffmpeg.js';
import type { ReorderBufferOptions } from './jitter-buffer.js';
import { segmentBaseName } from './names.js';
import { RecordingSegment, type SegmentInfo } from './recording-segment.js';
import { emptyStats, type RecorderStats, type RemoteTrackSource } from './types.js';
import { silentLogger, type Logger } from '../util/logger.js';

export type { SegmentInfo } from './recording-segment.js';

/** Options for {@link ParticipantRecorder}. */
export interface ParticipantRecorderOptions {
  /** Directory the files go to (must exist). */
  dir: string;
  /** File name without extension; segment n > 1 gets `.n` appended. */
  baseName: string;
  participantId: string;
  /** Record audio tracks only. @defaultValue false */
  audioOnly?: boolean;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
  /** Reorder window. @defaultValue 200 ms / 100 packets */
  reorder?: ReorderBufferOptions;
  /** PLI retry while waiting for a keyframe. @defaultValue 2000 */
  keyframeRetryMs?: number;
  /**
   * How long a new segment waits for a video track's first packet. ffmpeg cannot start a file
   * with a video stream that never sends (no size), so silent video tracks are left out and join
   * with a new segment once they send. @defaultValue 3000
   */
  videoWaitMs?: number;
  /**
   * How many times an ffmpeg that crashed mid-recording is replaced by a new segment (after
   * {@link restartDelayMs}), so that the rest of the meeting is still recorded. A full disk is not
   * retried. @defaultValue 3
   */
  maxRestarts?: number;
  /** @defaultValue 1000 */
  restartDelayMs?: number;
  /**
   * Index of the first segment: a meeting continued by another process (fleet hand-over) goes
   * on after the segments already on disk. @defaultValue 1
   */
  firstSegment?: number;
}

/** Lifecycle of a {@link ParticipantRecorder}. */
export type ParticipantRecorderState = 'idle' | 'recording' | 'stopped' | 'failed';

/**
 * Records one participant's audio and/or video into one file per segment (`-c copy`): VP8[+Opus]
 * → `.webm`, H264[+Opus] → `.mkv`, Opus only → `.ogg`.
 *
 * - A new SSRC on a track continues the same file (timestamps stitched), see `RtpForwarder`.
 * - {@link startSegment} (rejoin, new tracks) closes the current file and opens `name.2.ext`, ...
 * - An ffmpeg crash is reported on {@link error$} and recording continues in a new segment (up to
 *   `maxRestarts`); a full disk or a failed start marks the recorder `failed`. Never throws.
 */
export class ParticipantRecorder {
  readonly participantId: string;
  private readonly logger: Logger;
  private readonly segmentList: RecordingSegment[] = [];
  private current: RecordingSegment | undefined;
  private sources: RemoteTrackSource[] = [];
  private state_: ParticipantRecorderState = 'idle';
  private readonly errors = new Subject<MediaError>();
  private readonly changes = new Subject<SegmentInfo>();
  private queue: Promise<unknown> = Promise.resolve();
  private keyframeRequests = 0;

  /** Errors (ffmpeg crash, disk full, setup failures). */
  readonly error$: Observable<MediaError> = this.errors.asObservable();
  /** Emits a segment's info whenever it changes (started, first sample known, finished, failed). */
  readonly segment$: Observable<SegmentInfo> = this.changes.asObservable();

  constructor(private readonly options: ParticipantRecorderOptions) {
    this.participantId = options.participantId;
    this.logger = (options.logger ?? silentLogger).child({ participantId: options.participantId });
  }

  get state(): ParticipantRecorderState {
    return this.state_;
  }

  /** All segments so far, oldest first. */
  get segments(): SegmentInfo[] {
    return this.segmentList.map((s) => s.info);
  }

  /** Counters summed over all segments. */
  get stats(): RecorderStats {
    const stats = emptyStats();
    for (const s of this.segmentList) {
      const c = s.counters;
      stats.packetsReceived += c.received;
      stats.packetsLost += c.lost;
      stats.packetsReordered += c.reordered;
      stats.packetsDropped += c.dropped;
      stats.bytesForwarded += c.bytes;
      stats.bytesWritten += s.bytesWritten;
    }
    stats.keyframeRequests = this.keyframeRequests;
    stats.segments = this.segmentList.length;
    return stats;
  }

  /** Tracks currently recorded. */
  get currentSources(): readonly RemoteTrackSource[] {
    return this.sources;
  }

  /**
   * Finishes the current file (if any) and starts the next segment with `sources`
   * (default: the current ones). Resolves with the new segment, or undefined if it could not start
   * (reported on {@link error$}). Calls are serialised.
   */
  startSegment(sources: readonly RemoteTrackSource[] = this.sources): Promise<SegmentInfo | undefined> {
    return this.enqueue(async () => {
      if (this.state_ === 'stopped') return undefined;
      await this.current?.stop();
      this.current = undefined;
      const wanted = sources.filter((s) => !this.options.audioOnly || s.kind === 'audio');
      this.sources = await this.withoutSilentVideo(wanted);
      if (this.sources.length === 0) return undefined;
      const index = this.segmentList.length + (this.options.firstSegment ?? 1);
      try {
        const segment = await RecordingSegment.start({
          index,
          basePath: join(this.options.dir, segmentBaseName(this.options.baseName, index)),
          sources: this.sources,
          ffmpeg: this.options.ffmpeg,
          logger: this.logger,
          reorder: this.options.reorder,
          keyframeRetryMs: this.options.keyframeRetryMs,
          onKeyframeRequest: () => this.keyframeRequests++,
          onChange: (info) => this.changes.next(info),
        });
        this.segmentList.push(segment);
        this.current = segment;
        this.state_ = 'recording';
        segment.failed$.subscribe((err) => this.segmentFailed(segment, err));
        segment.ended$.subscribe(() => {
          // Input stopped; the next startSegment()/addSource() opens the next file.
          if (this.current === segment) this.current = undefined;
        });
        this.changes.next(segment.info);
        return segment.info;
      } catch (err) {
        this.fail(err as MediaError);
        return undefined;
      }
    });
  }

  /**
   * Adds a track. A kind the current file lacks (video arriving after audio) starts a new segment;
   * a replacement track of a kind already recorded starts a new segment too (its codec may differ).
   */
  addSource(source: RemoteTrackSource): Promise<SegmentInfo | undefined> {
    if (this.options.audioOnly && source.kind !== 'audio') return Promise.resolve(this.current?.info);
    const others = this.sources.filter((s) => s.kind !== source.kind);
    return this.startSegment([...others, source]);
  }

  /**
   * Finishes the current file but stays usable: the next {@link startSegment} (rejoin) opens the
   * next segment. Resolves with the finished segment, if there was one.
   */
  endSegment(): Promise<SegmentInfo | undefined> {
    return this.enqueue(async () => {
      const segment = this.current;
      this.current = undefined;
      this.sources = [];
      return segment?.stop();
    });
  }

  /** True while a file is being written. */
  get recording(): boolean {
    return this.current !== undefined;
  }

  /** Finalises the current file; resolves with every segment. Idempotent, never rejects. */
  stop(): Promise<SegmentInfo[]> {
    return this.enqueue(async () => {
      await this.current?.stop();
      this.current = undefined;
      if (this.state_ !== 'failed') this.state_ = 'stopped';
      this.errors.complete();
      this.changes.complete();
      return this.segments;
    });
  }

  /** SIGKILLs the current ffmpeg without finalising (fatal shutdown, tests). */
  kill(): void {
    this.current?.kill();
    this.current = undefined;
    this.state_ = 'stopped';
  }

  /** Drops video sources that send nothing within `videoWaitMs`; they rejoin on their first packet. */
  private async withoutSilentVideo(sources: RemoteTrackSource[]): Promise<RemoteTrackSource[]> {
    const waitMs = this.options.videoWaitMs ?? 3000;
    const ready = await Promise.all(
      sources.map((s) =>
        s.kind === 'audio'
          ? true
          : firstValueFrom(s.rtp$.pipe(map(() => true), timeout({ first: waitMs, with: () => of(false) }), defaultIfEmpty(false))).catch(() => false),
      ),
    );
    const silent = sources.filter((_, i) => !ready[i]);
    for (const source of silent) {
      this.logger.warn({ ssrc: source.ssrc }, 'video track sends nothing yet; recording without it until it does');
      source.rtp$.pipe(take(1)).subscribe(() => {
        if (this.state_ !== 'stopped' && this.current && !this.sources.includes(source)) void this.addSource(source);
      });
    }
    const kept = sources.filter((_, i) => ready[i]);
    // Video alone that never sends: keep it anyway so the failure is reported, not silently skipped.
    return kept.length > 0 ? kept : sources;
  }

  private restarts = 0;
  /** An ffmpeg died mid-recording: report it, then carry on in a new segment unless that is futile. */
  private segmentFailed(segment: RecordingSegment, err: MediaError): void {
    const max = this.options.maxRestarts ?? 3;
    if (this.current !== segment || err.code === 'DISK_FULL' || this.restarts >= max) return this.fail(err);
    this.restarts++;
    this.current = undefined;
    this.logger.warn({ reason: summarizeError(err.message), restart: this.restarts, of: max }, 'ffmpeg died mid-recording; continuing in a new segment');
    this.errors.next(err);
    setTimeout(() => {
      if (this.state_ === 'recording' && !this.current) void this.startSegment();
    }, this.options.restartDelayMs ?? 1000).unref();
  }

  private fail(err: MediaError): void {
    // Reported on error$; whoever owns the recorder logs it once (the record plugin does).
    this.logger.debug({ err }, 'participant recording failed');
    this.state_ = 'failed';
    this.current = undefined;
    this.errors.next(err);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
