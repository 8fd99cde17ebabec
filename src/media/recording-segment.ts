import { createSocket, type Socket } from 'node:dgram';
import { rm, stat, writeFile } from 'node:fs/promises';
import { Subject } from 'rxjs';
import { chooseContainer, crashSafeOutputArgs, type ContainerChoice } from './container.js';
import { MediaError } from './errors.js';
import { spawnFfmpeg, type FfmpegInfo, type FfmpegProcess } from './ffmpeg.js';
import type { ReorderBufferOptions } from './jitter-buffer.js';
import type { KeyframeReason } from './keyframe.js';
import { waitUntilBound, type PortPair, type UdpPortPool } from './port-pool.js';
import { MatroskaDurationPatcher } from './mkv-duration.js';
import { RtpForwarder } from './rtp-forwarder.js';
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
  portPool: UdpPortPool;
  ffmpeg?: FfmpegInfo;
  logger: Logger;
  reorder?: ReorderBufferOptions;
  keyframeRetryMs?: number;
  onKeyframeRequest?: (reason: KeyframeReason) => void;
  /** Called whenever {@link RecordingSegment.info} changed. */
  onChange: (info: SegmentInfo) => void;
}

const RTP_ARGS = ['-hide_banner', '-loglevel', 'info', '-stats_period', '1', '-protocol_whitelist', 'file,udp,rtp'];

/**
 * One ffmpeg writing one file from one participant's tracks. Owns its ports, socket, SDP file,
 * forwarders and ffmpeg; {@link stop} finalises, {@link kill} abandons. A crash or full disk ends
 * in `info.state === 'failed'` and `failed$`, never a throw.
 */
export class RecordingSegment {
  readonly info: SegmentInfo;
  /** Emits once if ffmpeg ends without being asked to. */
  readonly failed$ = new Subject<MediaError>();
  /** Emits once if ffmpeg finished the file by itself (no input for 10 s). */
  readonly ended$ = new Subject<SegmentInfo>();
  private readonly forwarders: RtpForwarder[] = [];
  private readonly ports: PortPair[] = [];
  private readonly sockets: Socket[] = [];
  private ffmpeg: FfmpegProcess | undefined;
  private stopping: Promise<SegmentInfo> | undefined;
  private readonly choice: ContainerChoice;
  private readonly file: string;
  private patcher: MatroskaDurationPatcher | undefined;
  private readonly sdpFile: string;
  private bytesWrittenFinal = 0;

  private constructor(private readonly options: SegmentOptions) {
    const { sources, basePath } = options;
    this.choice = chooseContainer(sources.map((s) => s.codec.mimeType));
    this.file = `${basePath}.${this.choice.ext}`;
    this.sdpFile = `${basePath}.sdp`;
    this.info = {
      index: options.index,
      file: this.file,
      kinds: sources.map((s) => s.kind),
      codecs: sources.map((s) => s.codec.mimeType),
      startedAt: Date.now(),
      state: 'recording',
    };
  }

  /** Starts ffmpeg and forwarding; rejects only for setup errors (no ports, no ffmpeg). */
  static async start(options: SegmentOptions): Promise<RecordingSegment> {
    if (options.sources.length === 0) throw new MediaError('NO_STREAMS', 'a recording needs at least one track');
    for (let attempt = 1; ; attempt++) {
      const segment = new RecordingSegment(options);
      try {
        await segment.setup();
        return segment;
      } catch (err) {
        segment.kill();
        // Another process took a port between our probe and ffmpeg's bind: try other ports.
        if (!(err instanceof MediaError && err.code === 'PORT_NOT_BOUND') || attempt >= 3) throw err;
        options.logger.debug({ err, attempt }, 'ffmpeg could not bind its ports, retrying');
      }
    }
  }

  /** Forwarded/lost counters summed over tracks. */
  get counters() {
    const sum = { received: 0, lost: 0, reordered: 0, bytes: 0 };
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
    const { sources, portPool, logger } = this.options;
    for (let i = 0; i < sources.length; i++) this.ports.push(await portPool.allocate());
    await writeFile(this.sdpFile, writeSdp(sources.map((s, i) => ({ kind: s.kind, port: this.ports[i]!.rtp, codec: s.codec }))));
    for (const [i, source] of sources.entries()) {
      const socket = createSocket('udp4');
      socket.on('error', (err) => logger.debug({ err }, 'recorder udp socket error'));
      await new Promise<void>((resolve) => socket.connect(this.ports[i]!.rtp, '127.0.0.1', resolve));
      this.sockets.push(socket);
      this.forwarders.push(
        new RtpForwarder({
          source,
          ports: this.ports[i]!,
          socket,
          logger,
          reorder: this.options.reorder,
          keyframeRetryMs: this.options.keyframeRetryMs,
          onKeyframeRequest: this.options.onKeyframeRequest,
          onFirstSample: () => this.updateFirstSample(),
        }),
      );
    }
    this.ffmpeg = await spawnFfmpeg([...RTP_ARGS, '-i', this.sdpFile, '-map', '0', '-c', 'copy', ...crashSafeOutputArgs(this.choice), '-y', this.file], {
      ffmpeg: this.options.ffmpeg,
      logger,
    });
    if (this.choice.format !== 'ogg') {
      const patcher = (this.patcher = new MatroskaDurationPatcher(this.file));
      this.ffmpeg.progress$.subscribe((p) => void patcher.update(p.timeMs));
    }
    void this.ffmpeg.exited.then((exit) => {
      if (this.stopping) return;
      if (exit.error) this.fail(exit.error);
      else void this.endedByItself();
    });
    const abort = new AbortController();
    void this.ffmpeg.exited.then(() => abort.abort());
    await waitUntilBound(this.ports.flatMap((p) => [p.rtp, p.rtcp]), { signal: abort.signal, pid: this.ffmpeg.child.pid });
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
      await this.release();
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
    void this.release();
    this.options.onChange(this.info);
    this.failed$.next(error);
    this.failed$.complete();
  }

  /**
   * Lets ffmpeg finish the file (`q`: duration, cues), then stops forwarding. Idempotent; never rejects.
   * @defaultValue graceMs 3000
   */
  stop(graceMs = 3000): Promise<SegmentInfo> {
    this.stopping ??= (async () => {
      await this.patcher?.close();
      if (this.info.state === 'failed' || !this.ffmpeg) return this.info;
      // Before its first status line ffmpeg is still probing and does not read stdin.
      if (!this.ffmpeg.progress) this.ffmpeg.child.kill('SIGINT');
      const exit = await this.ffmpeg.stop(graceMs);
      await this.release();
      this.info.stoppedAt = Date.now();
      this.bytesWrittenFinal = await stat(this.file).then((s) => s.size, () => 0);
      if (exit.error || this.bytesWrittenFinal === 0) {
        this.info.state = 'failed';
        this.info.error = exit.error?.message ?? 'no media arrived before the recording stopped';
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
    void this.release();
  }

  private released = false;
  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const f of this.forwarders) f.close();
    void this.patcher?.close();
    for (const p of this.ports) this.options.portPool.release(p);
    for (const socket of this.sockets) socket.close();
    await rm(this.sdpFile, { force: true });
  }
}
