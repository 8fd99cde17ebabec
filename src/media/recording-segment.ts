import { constants } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Subject } from 'rxjs';
import { chooseContainer, crashSafeOutputArgs, type ContainerChoice } from './container.js';
import { MediaError } from './errors.js';
import { spawnFfmpeg, type FfmpegExit, type FfmpegProcess } from './ffmpeg.js';
import { detectFfmpegFeatures, type FfmpegFeatures } from './ffmpeg-features.js';
import { locateFfmpeg, type FfmpegInfo } from './ffmpeg-locate.js';
import type { ReorderBufferOptions } from './jitter-buffer.js';
import type { KeyframeReason } from './keyframe.js';
import { MatroskaDurationPatcher } from './mkv-duration.js';
import { checkRecordedFile } from './recorded-file.js';
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
  /**
   * `finished`: ffmpeg closed the file; `interrupted`: ffmpeg was killed or crashed but the file
   * plays (its end may lack an index); `failed`: nothing playable was written.
   */
  state: 'recording' | 'finished' | 'interrupted' | 'failed';
  /** Why the file ended early or failed (one line first, ffmpeg's last output after it). */
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

/**
 * ffmpeg input options for our RTSP feed over TCP: with no packet for 10 s ffmpeg ends the file by
 * itself. The socket timeout is `-timeout` since ffmpeg 5.0 and `-stimeout` before (where
 * `-timeout` means "wait for an incoming connection"); `-stats_period` exists since 4.4. Pure.
 */
export function recordingInputArgs(features: Pick<FfmpegFeatures, 'statsPeriod' | 'rtspSocketTimeout'>): string[] {
  const args = ['-hide_banner', '-loglevel', 'info'];
  if (features.statsPeriod) args.push('-stats_period', '1');
  args.push('-rtsp_transport', 'tcp');
  if (features.rtspSocketTimeout) args.push(`-${features.rtspSocketTimeout}`, '10000000');
  return args;
}

/**
 * One ffmpeg writing one file from one participant's tracks. Owns its {@link RtspFeed}, forwarders
 * and ffmpeg; {@link stop} finalises, {@link kill} abandons. An ffmpeg that ends on its own with an
 * error (crash, full disk, a signal it got from someone else) emits `failed$`, never a throw; its
 * `info.state` then says what it left behind (`finished`, `interrupted` or `failed`).
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

  private constructor(
    private readonly options: SegmentOptions,
    private readonly binary: FfmpegInfo,
    private readonly features: FfmpegFeatures,
  ) {
    const { sources, basePath } = options;
    this.choice = chooseContainer(
      sources.map((s) => s.codec.mimeType),
      { oggOpus: features.oggOpusFromRtp },
    );
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

  /**
   * Starts ffmpeg and forwarding; rejects only for setup errors (no ffmpeg, ffmpeg gave up). A
   * segment that got as far as choosing its file reports the failure through `onChange` first
   * (state `failed` with the reason), so the sidecar says why a participant has no recording.
   */
  static async start(options: SegmentOptions): Promise<RecordingSegment> {
    if (options.sources.length === 0) throw new MediaError('NO_STREAMS', 'a recording needs at least one track');
    const binary = options.ffmpeg ?? (await locateFfmpeg());
    const segment = new RecordingSegment(options, binary, await detectFfmpegFeatures(binary.path));
    try {
      await segment.setup();
      return segment;
    } catch (err) {
      segment.kill();
      Object.assign(segment.info, { state: 'failed', error: (err as Error).message, stoppedAt: Date.now() });
      options.onChange(segment.info);
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
    const input = recordingInputArgs(this.features);
    this.ffmpeg = await spawnFfmpeg([...input, '-i', feed.url, '-map', '0', '-c', 'copy', ...crashSafeOutputArgs(this.choice), '-y', this.file], {
      ffmpeg: this.binary,
      logger,
      killOnExit: false, // the feed closing with us makes it finish the file
    });
    if (this.choice.format !== 'ogg') {
      const patcher = (this.patcher = new MatroskaDurationPatcher(this.file));
      this.ffmpeg.progress$.subscribe((p) => void patcher.update(p.timeMs));
    }
    const exited = this.ffmpeg.exited;
    void exited.then((exit) => {
      if (this.stopping) return;
      if (exit.error) void this.fail(exit);
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

  /** ffmpeg ended on its own with an error: judge the file it left, then report. */
  private fail(exit: FfmpegExit): Promise<void> {
    this.failing ??= this.reportFailure(exit);
    return this.failing;
  }
  private failing: Promise<void> | undefined;

  private async reportFailure(exit: FfmpegExit): Promise<void> {
    this.release();
    await this.patcher?.close();
    this.info.stoppedAt = Date.now();
    await this.classify(exit);
    this.options.onChange(this.info);
    this.failed$.next(exit.error!);
    this.failed$.complete();
  }

  /**
   * Sets `state` from what ffmpeg left on disk: an ffmpeg that was stopped or killed behind our
   * back (a signal for the whole process group, the OOM killer) often leaves a file that plays.
   */
  private async classify(exit: FfmpegExit): Promise<void> {
    const file = await checkRecordedFile(this.file);
    this.bytesWrittenFinal = file.bytes;
    const forwarded = this.forwarders.reduce((n, f) => n + f.counters.forwarded, 0);
    if (!exit.error && file.bytes > 0 && forwarded > 0) {
      this.info.state = 'finished';
      return;
    }
    this.info.error = exit.error?.message ?? 'no media arrived before the recording stopped';
    if (file.playable) {
      // SIGINT/SIGTERM: ffmpeg still wrote its trailer (index, duration), the file is complete.
      this.info.state = exit.interrupted && exit.code === 255 ? 'finished' : 'interrupted';
    } else {
      this.info.state = 'failed';
      // A file without a single packet is only a header: do not leave an unreadable file behind.
      if (!exit.error && forwarded === 0) await rm(this.file, { force: true });
    }
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
      if (this.failing || !this.ffmpeg) {
        await this.failing;
        return this.info;
      }
      for (const f of this.forwarders) f.close();
      this.feed?.end();
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), graceMs).unref());
      const exit = (await Promise.race([this.ffmpeg.exited, timeout])) ?? (await this.ffmpeg.stop(graceMs));
      this.release();
      this.info.stoppedAt = Date.now();
      await this.classify(exit);
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
