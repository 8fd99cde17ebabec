import { constants } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Subject } from 'rxjs';
import { chooseContainer, crashSafeOutputArgs, type ContainerChoice } from './container.js';
import { MediaError } from './errors.js';
import { spawnFfmpeg, type FfmpegInfo, type FfmpegProcess } from './ffmpeg.js';
import type { ReorderBufferOptions } from './jitter-buffer.js';
import type { KeyframeReason } from './keyframe.js';
import { MatroskaDurationPatcher } from './mkv-duration.js';
import { RtpForwarder } from './rtp-forwarder.js';
import { RtspFeed } from './rtsp-feed.js';
import { writeSdp } from './sdp.js';
import type { RemoteTrackSource } from './types.js';
import type { Logger } from '../util/logger.js';

/** State of one recorded file. */
export interface SegmentInfo {
  /** 1-based. */
  index: number;
  /** Absolute path of the file. */
  file: string;
  kinds: ('audio' | 'video')[];
  codecs: string[];
  /** When ffmpeg was ready and forwarding began (Unix ms). */
  startedAt: number;
  stoppedAt?: number;
  firstSampleTime?: number;
  firstSampleSource?: 'rtcp-sr' | 'arrival';
  state: 'recording' | 'finished' | 'failed';
  error?: string;
}

/** Options for {@link RecordingSegment.start}. */
export interface SegmentOptions {
  index: number;
  /** Path without extension, e.g. `/rec/room/2026-…/alice` or `…/alice.2`. */
  basePath: string;
  sources: readonly RemoteTrackSource[];
  ffmpeg?: FfmpegInfo;
  logger: Logger;
  reorder?: ReorderBufferOptions;
  keyframeRetryMs?: number;
  onKeyframeRequest?: (reason: KeyframeReason) => void;
  /** Called whenever {@link RecordingSegment.info} changed. */
  onChange: (info: SegmentInfo) => void;
}

/** ffmpeg input: our RTSP feed over TCP; with no packet for 10 s ffmpeg ends the file by itself. */
const INPUT_ARGS = ['-hide_banner', '-loglevel', 'info', '-stats_period', '1', '-rtsp_transport', 'tcp', '-timeout', '10000000'];

/**
 * One ffmpeg writing one file from one participant's tracks. Owns its {@link RtspFeed}, forwarders
 * and ffmpeg; {@link stop} finalises, {@link kill} abandons. A crash or full disk ends
 * in `info.state === 'failed'` and `failed$`, never a throw.
 */
export class RecordingSegment {
  readonly info: SegmentInfo;
  /** Emits once if ffmpeg ends without being asked to. */
  readonly failed$ = new Subject<MediaError>();
  /** Emits once if ffmpeg finished the file by itself (no input for 10 s). */
  readonly ended$ = new Subject<SegmentInfo>();
  private readonly forwarders: RtpForwarder[] = [];
  private feed: RtspFeed | undefined;
  private ffmpeg: FfmpegProcess | undefined;
  private stopping: Promise<SegmentInfo> | undefined;
  private readonly choice: ContainerChoice;
  private readonly file: string;
  private patcher: MatroskaDurationPatcher | undefined;
  private bytesWrittenFinal = 0;

  private constructor(private readonly options: SegmentOptions) {
    const { sources, basePath } = options;
    this.choice = chooseContainer(sources.map((s) => s.codec.mimeType));
    this.file = `${basePath}.${this.choice.ext}`;
    this.info = {
      index: options.index,
      file: this.file,
      kinds: sources.map((s) => s.kind),
      codecs: sources.map((s) => s.codec.mimeType),
      startedAt: Date.now(),
      state: 'recording',
    };
  }

  /** Starts ffmpeg and forwarding; rejects only for setup errors (no ffmpeg, ffmpeg gave up). */
  static async start(options: SegmentOptions): Promise<RecordingSegment> {
    if (options.sources.length === 0) throw new MediaError('NO_STREAMS', 'a recording needs at least one track');
    const segment = new RecordingSegment(options);
    try {
      await segment.setup();
      return segment;
    } catch (err) {
      segment.kill();
      throw err;
    }
  }

  /** Forwarded/lost counters summed over tracks. */
  get counters() {
    const sum = { received: 0, lost: 0, reordered: 0, bytes: 0, dropped: this.feed?.dropped ?? 0 };
    for (const f of this.forwarders) {
      sum.received += f.counters.received;
      sum.lost += f.lost;
      sum.reordered += f.reordered;
      sum.bytes += f.counters.bytes;
    }
    return sum;
  }

  /** Output bytes: ffmpeg's latest `size=` while running, the file size once finished. */
  get bytesWritten(): number {
    return this.bytesWrittenFinal || this.ffmpeg?.progress?.sizeBytes || 0;
  }

  private async setup(): Promise<void> {
    const { sources, logger } = this.options;
    // ffmpeg opens its output only after probing the input: check the directory now, not seconds later.
    await access(dirname(this.file), constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      throw new MediaError('OUTPUT_NOT_WRITABLE', `cannot write recordings to ${dirname(this.file)}: ${err.code ?? err.message}`, { cause: err });
    });
    const sdp = writeSdp(sources.map((s) => ({ kind: s.kind, codec: s.codec })));
    const feed = (this.feed = await RtspFeed.listen({ sdp, tracks: sources.length, logger }));
    for (const [track, source] of sources.entries()) {
      this.forwarders.push(
        new RtpForwarder({
          source,
          feed,
          track,
          logger,
          reorder: this.options.reorder,
          keyframeRetryMs: this.options.keyframeRetryMs,
          onKeyframeRequest: this.options.onKeyframeRequest,
          onFirstSample: () => this.updateFirstSample(),
        }),
      );
    }
    this.ffmpeg = await spawnFfmpeg([...INPUT_ARGS, '-i', feed.url, '-map', '0', '-c', 'copy', ...crashSafeOutputArgs(this.choice), '-y', this.file], {
      ffmpeg: this.options.ffmpeg,
      logger,
    });
    if (this.choice.format !== 'ogg') {
      const patcher = (this.patcher = new MatroskaDurationPatcher(this.file));
      this.ffmpeg.progress$.subscribe((p) => void patcher.update(p.timeMs));
    }
    const exited = this.ffmpeg.exited;
    void exited.then((exit) => {
      if (this.stopping) return;
      if (exit.error) this.fail(exit.error);
      else void this.endedByItself();
    });
    const gaveUp = exited.then((exit) => {
      throw exit.error ?? new MediaError('FFMPEG_EXIT', `ffmpeg exited (code ${exit.code}) before reading its input`);
    });
    await Promise.race([feed.playing, gaveUp]);
    this.info.startedAt = Date.now(); // media flows from here on
    for (const f of this.forwarders) f.open();
  }

  private updateFirstSample(): void {
    const firsts = this.forwarders.map((f) => f.first).filter((f) => f !== undefined);
    const preferred = firsts.some((f) => f.source === 'rtcp-sr') ? firsts.filter((f) => f.source === 'rtcp-sr') : firsts;
    if (preferred.length === 0) return;
    this.info.firstSampleTime = Math.min(...preferred.map((f) => f.time));
    this.info.firstSampleSource = preferred[0]!.source;
    this.options.onChange(this.info);
  }

  /** ffmpeg finished the file on its own: its input stopped for 10 s (track gone, node paused). */
  private async endedByItself(): Promise<void> {
    this.stopping ??= (async () => {
      await this.patcher?.close();
      this.release();
      this.info.stoppedAt = Date.now();
      this.info.state = 'finished';
      this.bytesWrittenFinal = await stat(this.file).then((s) => s.size, () => 0);
      this.options.logger.info({ file: this.file }, 'ffmpeg ended the file after its input stopped');
      this.options.onChange(this.info);
      this.ended$.next(this.info);
      this.ended$.complete();
      return this.info;
    })();
  }

  private fail(error: MediaError): void {
    if (this.info.state === 'failed') return;
    this.info.state = 'failed';
    this.info.error = error.message;
    this.info.stoppedAt = Date.now();
    this.release();
    this.options.onChange(this.info);
    this.failed$.next(error);
    this.failed$.complete();
  }

  /**
   * Stops forwarding (held packets are written first) and ends the feed: ffmpeg reads end-of-stream
   * and finishes the file (duration, cues). If it has not exited within `graceMs`, it is stopped
   * with `q`, then signals. Idempotent; never rejects.
   * @defaultValue graceMs 3000
   */
  stop(graceMs = 3000): Promise<SegmentInfo> {
    this.stopping ??= (async () => {
      await this.patcher?.close();
      if (this.info.state === 'failed' || !this.ffmpeg) return this.info;
      for (const f of this.forwarders) f.close();
      this.feed?.end();
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), graceMs).unref());
      const exit = (await Promise.race([this.ffmpeg.exited, timeout])) ?? (await this.ffmpeg.stop(graceMs));
      this.release();
      this.info.stoppedAt = Date.now();
      this.bytesWrittenFinal = await stat(this.file).then((s) => s.size, () => 0);
      const forwarded = this.forwarders.reduce((n, f) => n + f.counters.forwarded, 0);
      if (exit.error || this.bytesWrittenFinal === 0 || forwarded === 0) {
        this.info.state = 'failed';
        this.info.error = exit.error?.message ?? 'no media arrived before the recording stopped';
        // A file without a single packet is only a header: do not leave an unreadable file behind.
        if (!exit.error && forwarded === 0) await rm(this.file, { force: true });
      } else {
        this.info.state = 'finished';
      }
      this.options.onChange(this.info);
      return this.info;
    })();
    return this.stopping;
  }

  /** SIGKILLs ffmpeg and releases everything without finalising (tests, fatal shutdown). */
  kill(): void {
    this.stopping ??= Promise.resolve(this.info);
    for (const f of this.forwarders) f.close();
    this.ffmpeg?.kill();
    this.release();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    for (const f of this.forwarders) f.close();
    void this.patcher?.close();
    this.feed?.close();
  }
}
