import { createSocket, type Socket } from 'node:dgram';
import { MediaStreamTrack } from 'werift';
import { detectFfmpegFeatures, locateFfmpeg, MediaError, missingFor, spawnFfmpeg, type FfmpegProcess } from '../media/index.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Options of {@link TestPatternSource}. */
export interface TestPatternOptions {
  /** Tone frequency in Hz. @defaultValue 440 */
  toneHz?: number;
  /** Hue rotation of the test picture in degrees, to tell participants apart. @defaultValue 0 */
  hue?: number;
  /** Picture size. @defaultValue `'320x240'` */
  size?: string;
  /** Frames per second. @defaultValue 15 */
  fps?: number;
  /** Send video. @defaultValue true */
  video?: boolean;
  logger?: Logger;
}

function bindUdp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * A live test source for demos and load tests: ffmpeg encodes a moving test picture (VP8) and a
 * tone (Opus) in real time from lavfi, sends RTP to local sockets, and the packets are written
 * into werift tracks that calls send (`media.audioTrack` / `media.videoTrack`).
 */
export class TestPatternSource {
  readonly audioTrack = new MediaStreamTrack({ kind: 'audio' });
  readonly videoTrack = new MediaStreamTrack({ kind: 'video' });
  #ffmpeg?: FfmpegProcess;
  #sockets: Socket[] = [];
  #stopped = false;

  constructor(private readonly options: TestPatternOptions = {}) {}

  /** Starts ffmpeg; packets flow into the tracks until {@link stop}. Rejects when ffmpeg lacks an encoder. */
  async start(): Promise<void> {
    const ffmpeg = await locateFfmpeg();
    const missing = missingFor(await detectFfmpegFeatures(ffmpeg.path), 'demo');
    if (missing.length > 0) {
      throw new MediaError('FFMPEG_MISSING_FEATURE', `the ffmpeg at ${ffmpeg.path} lacks ${missing.join(', ')} for the test patterns: install Debian's ffmpeg (apt-get install -y ffmpeg)`);
    }
    const log = this.options.logger ?? silentLogger;
    const audio = await bindUdp();
    const video = this.options.video === false ? undefined : await bindUdp();
    this.#sockets = video ? [audio, video] : [audio];
    audio.on('message', (packet) => this.audioTrack.writeRtp(packet));
    video?.on('message', (packet) => this.videoTrack.writeRtp(packet));
    // connect=1: once our sockets are gone (node died, even by SIGKILL) ffmpeg's next send fails and it
    // exits; without RTCP (skip_rtcp) nothing else is sent to a port nobody listens on.
    const rtp = (socket: Socket) => ['-rtpflags', 'skip_rtcp', '-f', 'rtp', `rtp://127.0.0.1:${socket.address().port}?connect=1`];
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'];
    // A keyframe every second: a recorder that joins late (or a loaded machine) gets a picture soon.
    const fps = this.options.fps ?? 15;
    if (video) {
      const filter = `testsrc2=size=${this.options.size ?? '320x240'}:rate=${fps},hue=h=${this.options.hue ?? 0}`;
      args.push('-f', 'lavfi', '-i', filter);
    }
    args.push('-f', 'lavfi', '-i', `sine=frequency=${this.options.toneHz ?? 440}:sample_rate=48000`);
    if (video) {
      args.push('-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', String(fps), '-auto-alt-ref', '0');
      args.push('-pkt_size', '1200', ...rtp(video));
    }
    args.push('-map', `${video ? 1 : 0}:a`, '-c:a', 'libopus', '-ac', '2', '-b:a', '48k', '-frame_duration', '20', '-application', 'audio');
    args.push(...rtp(audio));
    const child = (this.#ffmpeg = await spawnFfmpeg(args, { ffmpeg, logger: log }));
    void child.exited.then((exit) => {
      if (!this.#stopped) log.warn({ code: exit.code, signal: exit.signal, reason: exit.error?.message.split('\n').at(-1) }, 'test pattern ffmpeg exited');
    });
  }

  /** Stops ffmpeg and closes the sockets. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ffmpeg?.kill();
    for (const s of this.#sockets) s.close();
    this.audioTrack.stop();
    this.videoTrack.stop();
  }
}
