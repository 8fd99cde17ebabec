import { mkdir } from 'node:fs/promises';
import { MediaError } from './errors.js';
import { spawnFfmpeg, type FfmpegExit, type FfmpegProcess } from './ffmpeg.js';
import { detectFfmpegFeatures } from './ffmpeg-features.js';
import { locateFfmpeg, type FfmpegInfo } from './ffmpeg-locate.js';
import { LiveDecoder, PCM_BYTES_PER_SECOND } from './live-decoder.js';
import { blit, border, mixPcm, solidFrame, type YuvFrame } from './live-frame.js';
import { liveLayout } from './live-layout.js';
import { detectLiveFeatures, liveMissing, liveOutputArgs, parseLiveTarget, type LiveTarget } from './live-output.js';
import { LiveSocket } from './live-socket.js';
import type { RemoteTrackSource } from './types.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Options for {@link LiveComposite.start}. */
export interface LiveCompositeOptions {
  /** `rtmp://…`, `rtmps://…`, `srt://…`, or a directory for HLS (`index.m3u8` and segments). */
  target: string;
  /** @defaultValue 640 */
  width?: number;
  /** @defaultValue 360 */
  height?: number;
  /** @defaultValue 15 */
  fps?: number;
  /** H.264 bitrate, kbit/s. @defaultValue 800 */
  videoKbps?: number;
  /** AAC bitrate, kbit/s. @defaultValue 96 */
  audioKbps?: number;
  /**
   * libx264 preset: `veryfast` keeps a 4-participant 640x360 composite real-time on 2 shared cores
   * with room to spare (see `npm run bench -- stream`). @defaultValue 'veryfast'
   */
  preset?: string;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

interface Member {
  sources: RemoteTrackSource[];
  decoder?: LiveDecoder;
  starting?: Promise<void>;
}

/**
 * A meeting encoded live as one composite (H.264 + AAC) to RTMP/RTMPS, SRT or HLS.
 *
 * One long-running ffmpeg encodes raw frames and PCM that node composes at a fixed rate: every
 * participant (and screen share) has its own {@link LiveDecoder}, node draws their latest frames
 * into the layout of {@link liveLayout} (active speaker outlined, a screen share as the main tile)
 * and mixes their audio. Joins, leaves and shares change only what node draws, so the stream never
 * restarts; a participant whose packets are lost or whose keyframe is late keeps its last frame.
 */
export class LiveComposite {
  private readonly members = new Map<string, Member>();
  private readonly talking = new Set<string>();
  private screen: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private frames = 0;
  private dropped = 0;
  private startedAt = 0;
  private audioBytes = 0;
  private stopping: Promise<FfmpegExit> | undefined;
  private readonly canvas: YuvFrame;
  private readonly w: number;
  private readonly h: number;
  private readonly fps: number;
  private readonly logger: Logger;

  private constructor(
    private readonly options: LiveCompositeOptions,
    readonly target: LiveTarget,
    private readonly binary: FfmpegInfo,
    private readonly encoder: FfmpegProcess,
    private readonly video: LiveSocket,
    private readonly audio: LiveSocket,
  ) {
    this.w = options.width ?? 640;
    this.h = options.height ?? 360;
    this.fps = options.fps ?? 15;
    this.canvas = solidFrame(this.w, this.h, 16);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Checks the ffmpeg build for what the target needs, starts the encoder and the frame clock.
   * @throws MediaError `INVALID_ARGUMENT` (bad target), `FFMPEG_MISSING_FEATURE` (naming what is missing)
   */
  static async start(options: LiveCompositeOptions): Promise<LiveComposite> {
    const target = parseLiveTarget(options.target);
    const binary = options.ffmpeg ?? (await locateFfmpeg());
    const [features, live] = await Promise.all([detectFfmpegFeatures(binary.path), detectLiveFeatures(binary.path)]);
    const missing = liveMissing(target, features, live);
    if (missing.length > 0) {
      throw new MediaError('FFMPEG_MISSING_FEATURE', `the ffmpeg at ${binary.path} lacks ${missing.join(', ')} for streaming to ${target.kind.toUpperCase()}: install Debian's ffmpeg (apt-get install -y ffmpeg)`);
    }
    if (target.kind === 'hls') await mkdir(target.dir, { recursive: true });
    const [w, h, fps] = [options.width ?? 640, options.height ?? 360, options.fps ?? 15];
    const video = await LiveSocket.listen();
    const audio = await LiveSocket.listen();
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
    args.push('-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', String(fps), '-i', video.url);
    args.push('-f', 's16le', '-ar', '48000', '-ac', '2', '-i', audio.url);
    const kbps = options.videoKbps ?? 800;
    args.push('-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', options.preset ?? 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p');
    args.push('-g', String(fps * 2), '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`);
    args.push('-c:a', 'aac', '-b:a', `${options.audioKbps ?? 96}k`, ...liveOutputArgs(target));
    const encoder = await spawnFfmpeg(args, { ffmpeg: binary, logger: options.logger });
    const composite = new LiveComposite(options, target, binary, encoder, video, audio);
    void encoder.exited.then((exit) => {
      if (!composite.stopping && exit.error) composite.logger.warn({ reason: exit.error.message.split('\n')[0] }, 'live stream encoder ended');
      clearInterval(composite.timer);
    });
    await Promise.race([video.connected, encoder.exited.then((exit) => Promise.reject(exit.error ?? new MediaError('FFMPEG_EXIT', 'the live encoder exited at start')))]);
    composite.startedAt = Date.now();
    composite.timer = setInterval(() => composite.tick(), Math.round(1000 / fps / 2));
    return composite;
  }

  /** Participants (and screen shares) in the composite. */
  get participants(): string[] {
    return [...this.members.keys()].filter((id) => !id.endsWith(':screen'));
  }

  /** Frames sent to the encoder so far. */
  get framesSent(): number {
    return this.frames;
  }

  /** Frames the encoder could not take in time (it is not keeping up with real time). */
  get framesDropped(): number {
    return this.dropped;
  }

  /** Sets a participant's tracks (a join, or new tracks): its decoder restarts with them; the stream goes on. */
  setParticipant(id: string, sources: readonly RemoteTrackSource[]): void {
    if (this.stopping) return;
    const member = this.members.get(id) ?? { sources: [] };
    this.members.set(id, member);
    member.sources = [...sources];
    const size = id.endsWith(':screen') ? { width: this.w, height: this.h } : { width: even(this.w / 2), height: even(this.h / 2) };
    const previous = member.decoder;
    member.starting = LiveDecoder.start(sources, { ...size, fps: this.fps }, this.logger.child({ participantId: id }), this.binary).then(
      (decoder) => {
        if (this.members.get(id) !== member || member.sources.length !== sources.length || this.stopping) return decoder.close();
        // The new decoder takes over once it has a picture; until then the old one's frame is held.
        if (previous?.frame && !decoder.frame) decoder.frame = previous.frame;
        previous?.close();
        member.decoder = decoder;
      },
      (err: Error) => this.logger.warn({ participantId: id, reason: err.message.split('\n')[0] }, 'cannot decode this participant for the live stream'),
    );
  }

  /** A participant left: its tile goes, the layout changes. */
  removeParticipant(id: string): void {
    const member = this.members.get(id);
    this.members.delete(id);
    member?.decoder?.close();
    void member?.starting?.then(() => member.decoder?.close());
    this.talking.delete(id);
  }

  /** Shows `source` of `participantId` as the main tile; `undefined` ends the share. */
  setScreen(participantId: string, source: RemoteTrackSource | undefined): void {
    if (this.screen) this.removeParticipant(`${this.screen}:screen`);
    this.screen = source ? participantId : undefined;
    if (source) this.setParticipant(`${participantId}:screen`, [source]);
  }

  /** Outlines the active speaker (from `Talking` documents). */
  setTalking(id: string, talking: boolean): void {
    if (talking) this.talking.add(id);
    else this.talking.delete(id);
  }

  /** Emits the frames (and audio) due by now; a composite that fell far behind skips ahead. */
  private tick(): void {
    if (this.stopping) return;
    const due = Math.floor(((Date.now() - this.startedAt) * this.fps) / 1000);
    if (due - this.frames > this.fps * 2) this.frames = due - 1; // stalled (suspended, overloaded): do not flood
    if (this.frames >= due) return;
    this.compose();
    const videoSocket = this.video.socket;
    if (videoSocket && videoSocket.writableLength > this.canvas.data.length * this.fps) {
      // The encoder is a second behind: drop frames rather than queue without bound.
      this.dropped += due - this.frames;
      this.frames = due;
      return;
    }
    while (this.frames < due) {
      videoSocket?.write(this.canvas.data);
      this.frames++;
    }
    const audioSocket = this.audio.socket;
    if (!audioSocket) return;
    const total = Math.round((this.frames * PCM_BYTES_PER_SECOND) / this.fps / 4) * 4;
    const bytes = total - this.audioBytes;
    if (bytes <= 0) return;
    const voices = [...this.members.values()].map((m) => m.decoder?.takeAudio(bytes)).filter((b): b is Buffer => b !== undefined);
    const out = Buffer.alloc(bytes);
    mixPcm(out, voices);
    audioSocket.write(out);
    this.audioBytes = total;
  }

  private compose(): void {
    this.canvas.data.fill(16, 0, this.w * this.h);
    this.canvas.data.fill(128, this.w * this.h);
    const tiles = liveLayout(this.participants, this.screen, this.w, this.h);
    for (const tile of tiles) {
      const frame = this.members.get(tile.id)?.decoder?.frame;
      blit(this.canvas, frame ?? solidFrame(2, 2), tile.x, tile.y, tile.w, tile.h);
      if (!tile.screen && this.talking.has(tile.id)) border(this.canvas, tile.x, tile.y, tile.w, tile.h);
    }
  }

  /** Ends the stream: the encoder reads end-of-input and finishes (HLS end list, FLV trailer). Idempotent. */
  stop(): Promise<FfmpegExit> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      for (const id of [...this.members.keys()]) this.removeParticipant(id);
      this.video.end();
      this.audio.end();
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000).unref());
      return (await Promise.race([this.encoder.exited, timeout])) ?? (await this.encoder.stop(3000));
    })();
    return this.stopping;
  }
}

function even(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}
