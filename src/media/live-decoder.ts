import { spawnFfmpeg, type FfmpegProcess } from './ffmpeg.js';
import { detectFfmpegFeatures } from './ffmpeg-features.js';
import { locateFfmpeg, type FfmpegInfo } from './ffmpeg-locate.js';
import { yuvSize, type YuvFrame } from './live-frame.js';
import { LiveSocket } from './live-socket.js';
import { recordingInputArgs } from './recording-segment.js';
import { RtpForwarder } from './rtp-forwarder.js';
import { RtspFeed } from './rtsp-feed.js';
import { writeSdp } from './sdp.js';
import type { RemoteTrackSource } from './types.js';
import type { Logger } from '../util/logger.js';

/** Bytes of 1 s of the composite's audio: s16le stereo 48 kHz. */
export const PCM_BYTES_PER_SECOND = 48_000 * 2 * 2;
/** Audio kept per participant at most: a burst beyond it drops the oldest (bounded latency). */
const MAX_AUDIO_BYTES = PCM_BYTES_PER_SECOND / 2;

/**
 * Decodes one participant's (or one screen share's) tracks for the live composite: its RTP goes
 * through the recorder's forwarder (reordering, SSRC stitching, PLIs on loss and at start) into an
 * ffmpeg that outputs raw yuv420p frames of a fixed size and s16le PCM over loopback TCP. The
 * latest complete frame is held ({@link frame}) until a newer one arrives, so loss or a keyframe
 * gap freezes the tile instead of breaking the stream.
 */
export class LiveDecoder {
  /** The newest complete frame, if any arrived yet. */
  frame: YuvFrame | undefined;
  private readonly audio: Buffer[] = [];
  private audioBytes = 0;
  private readonly forwarders: RtpForwarder[] = [];
  private feed: RtspFeed | undefined;
  private ffmpeg: FfmpegProcess | undefined;
  private sockets: LiveSocket[] = [];
  private closed = false;

  private constructor(
    readonly sources: readonly RemoteTrackSource[],
    private readonly width: number,
    private readonly height: number,
    private readonly logger: Logger,
  ) {}

  /** Starts decoding `sources` (one participant's audio and/or video) into `width`x`height` frames. */
  static async start(sources: readonly RemoteTrackSource[], size: { width: number; height: number; fps: number }, logger: Logger, ffmpeg?: FfmpegInfo): Promise<LiveDecoder> {
    const decoder = new LiveDecoder(sources, size.width, size.height, logger);
    try {
      await decoder.setup(size.fps, ffmpeg ?? (await locateFfmpeg()));
    } catch (err) {
      decoder.close();
      throw err;
    }
    return decoder;
  }

  /** Takes `bytes` of PCM (silence where the participant sent too little). */
  takeAudio(bytes: number): Buffer {
    const out = Buffer.alloc(bytes);
    let at = 0;
    while (at < bytes && this.audio.length > 0) {
      const head = this.audio[0]!;
      const n = Math.min(head.length, bytes - at);
      head.copy(out, at, 0, n);
      at += n;
      if (n === head.length) this.audio.shift();
      else this.audio[0] = head.subarray(n);
      this.audioBytes -= n;
    }
    return out;
  }

  /** True while ffmpeg runs. */
  get running(): boolean {
    return !this.closed && this.ffmpeg?.child.exitCode === null;
  }

  private async setup(fps: number, binary: FfmpegInfo): Promise<void> {
    const features = await detectFfmpegFeatures(binary.path);
    const sdp = writeSdp(this.sources.map((s) => ({ kind: s.kind, codec: s.codec })));
    const feed = (this.feed = await RtspFeed.listen({ sdp, tracks: this.sources.length, logger: this.logger, flushMs: 20 }));
    for (const [track, source] of this.sources.entries()) this.forwarders.push(new RtpForwarder({ source, feed, track, logger: this.logger, keyframeRetryMs: 1000 }));
    const args = [...recordingInputArgs(features), '-i', feed.url];
    const { width: w, height: h } = this;
    if (this.sources.some((s) => s.kind === 'video')) {
      const video = await LiveSocket.listen();
      this.sockets.push(video);
      const vf = `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,fps=${fps},format=yuv420p`;
      args.push('-map', '0:v:0', '-vf', vf, '-f', 'rawvideo', video.url);
      void video.connected.then((socket) => this.readFrames(socket));
    }
    if (this.sources.some((s) => s.kind === 'audio')) {
      const audio = await LiveSocket.listen();
      this.sockets.push(audio);
      args.push('-map', '0:a:0', '-ac', '2', '-ar', '48000', '-f', 's16le', audio.url);
      void audio.connected.then((socket) => socket.on('data', (chunk: Buffer) => this.pushAudio(chunk)));
    }
    this.ffmpeg = await spawnFfmpeg(args, { ffmpeg: binary, logger: this.logger });
    void this.ffmpeg.exited.then((exit) => {
      if (!this.closed && exit.error) this.logger.warn({ reason: exit.error.message.split('\n')[0] }, 'live decoder ended; the tile holds its last frame');
    });
    await Promise.race([feed.playing, this.ffmpeg.exited.then((exit) => Promise.reject(exit.error ?? new Error('ffmpeg exited before reading its input')))]);
    for (const f of this.forwarders) f.open();
  }

  private readFrames(socket: NodeJS.ReadableStream): void {
    const size = yuvSize(this.width, this.height);
    let pending: Buffer[] = [];
    let have = 0;
    socket.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      have += chunk.length;
      if (have < size) return;
      const all = Buffer.concat(pending);
      const frames = Math.floor(all.length / size);
      this.frame = { width: this.width, height: this.height, data: Buffer.from(all.subarray((frames - 1) * size, frames * size)) };
      const rest = all.subarray(frames * size);
      pending = rest.length ? [rest] : [];
      have = rest.length;
    });
  }

  private pushAudio(chunk: Buffer): void {
    this.audio.push(chunk);
    this.audioBytes += chunk.length;
    // Too much buffered (a burst after a stall): drop the oldest whole stereo samples, keeping s16 alignment.
    if (this.audioBytes > MAX_AUDIO_BYTES) this.takeAudio(Math.ceil((this.audioBytes - MAX_AUDIO_BYTES) / 4) * 4);
  }

  /** Stops forwarding and ffmpeg. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.forwarders) f.close();
    this.feed?.close();
    for (const s of this.sockets) s.end();
    this.ffmpeg?.kill();
  }
}
