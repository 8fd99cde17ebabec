import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { ffmpegPath } from '../../helpers/env.js';

/** Pre-encoded RTP of one stream: raw packets and their send offset in ms. */
export interface RtpStreamFixture {
  packets: { at: number; data: Buffer }[];
  /** Length of the clip in ms (for looping). */
  durationMs: number;
  clockRate: number;
}

/** Pre-encoded test media: VP8 or H264 video (testsrc) and Opus audio (sine). */
export interface RtpFixture {
  video?: RtpStreamFixture;
  audio?: RtpStreamFixture;
}

function listen(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

function toStream(raw: Buffer[], clockRate: number, durationMs: number): RtpStreamFixture {
  const t0 = raw[0]!.readUInt32BE(4);
  return {
    packets: raw.map((data) => ({ at: (((data.readUInt32BE(4) - t0) >>> 0) / clockRate) * 1000, data })),
    durationMs,
    clockRate,
  };
}

/**
 * Encodes `seconds` of lavfi testsrc/sine with ffmpeg to RTP (as fast as possible) and captures
 * the packets on local UDP sockets; replay them paced by {@link RtpStreamFixture.packets}.at.
 * Defaults: 320x240 at 20 fps; VP8 at 300 kbit/s with a keyframe every 10 frames. `noise` adds
 * moving grain so that VP8 spends its whole `videoKbps` (a camera's bitrate, not a test card's).
 */
export async function makeRtpFixture(options: {
  seconds: number;
  video?: 'vp8' | 'h264';
  audio?: boolean;
  size?: string;
  fps?: number;
  videoKbps?: number;
  keyframeEvery?: number;
  noise?: boolean;
}): Promise<RtpFixture> {
  const { seconds } = options;
  const audioSock = options.audio === false ? undefined : await listen();
  const videoSock = options.video ? await listen() : undefined;
  const captured = new Map<Socket, Buffer[]>();
  for (const s of [audioSock, videoSock]) {
    if (!s) continue;
    captured.set(s, []);
    s.on('message', (m) => captured.get(s)!.push(m));
  }
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  const grain = options.noise ? ',noise=alls=12:allf=t' : '';
  if (videoSock) args.push('-f', 'lavfi', '-i', `testsrc=size=${options.size ?? '320x240'}:rate=${options.fps ?? 20}:duration=${seconds}${grain}`);
  if (audioSock) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`);
  let input = 0;
  if (videoSock) {
    const codec =
      options.video === 'h264'
        ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '10', '-bsf:v', 'dump_extra']
        : vp8Args(options.videoKbps, options.keyframeEvery);
    args.push('-map', `${input++}:v`, ...codec, '-payload_type', '96', '-ssrc', '1111', '-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${videoSock.address().port}`);
  }
  if (audioSock) {
    args.push('-map', `${input}:a`, '-c:a', 'libopus', '-ac', '2', '-b:a', '48k', '-frame_duration', '20', '-payload_type', '111', '-ssrc', '2222', '-f', 'rtp', `rtp://127.0.0.1:${audioSock.address().port}`);
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg fixture exited ${code}`))));
  });
  await new Promise((r) => setTimeout(r, 200));
  const fixture: RtpFixture = {};
  if (videoSock) fixture.video = toStream(captured.get(videoSock)!, 90000, seconds * 1000);
  if (audioSock) fixture.audio = toStream(captured.get(audioSock)!, 48000, seconds * 1000);
  audioSock?.close();
  videoSock?.close();
  return fixture;
}

function vp8Args(kbps: number | undefined, gop: number | undefined): string[] {
  // A given rate is held (min = max) and encoded fast; the default keeps libvpx's own rate control.
  const rate = kbps === undefined ? ['-b:v', '300k'] : ['-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-cpu-used', '8'];
  const keyframes = gop === undefined ? ['-g', '10'] : ['-g', String(gop), '-keyint_min', String(gop)];
  return ['-c:v', 'libvpx', '-deadline', 'realtime', ...rate, ...keyframes, '-auto-alt-ref', '0'];
}

/** One stream of an {@link RtpReplayer}. */
export interface ReplayedStream {
  /**
   * Starts the clip over now (its first packet is a keyframe), as an encoder answers a PLI;
   * sequence numbers and timestamps stay continuous.
   */
  restart(): void;
}

interface ReplayState {
  fixture: RtpStreamFixture;
  write: (data: Buffer) => void;
  index: number;
  /** When (ms after start()) the current pass through the clip began. */
  passAt: number;
  /** Sequence number of the next packet sent. */
  seq: number;
}

/**
 * Replays fixtures in real time, looping with continuous sequence numbers and timestamps.
 * One timer drives every registered stream.
 */
export class RtpReplayer {
  private readonly streams: ReplayState[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  sent = 0;

  /**
   * Adds a stream; `write` receives a fresh Buffer per packet. A stream added after {@link start}
   * begins now; `offsetMs` delays it further (so that many streams' keyframes do not coincide).
   */
  add(fixture: RtpStreamFixture, write: (data: Buffer) => void, offsetMs = 0): ReplayedStream {
    const state: ReplayState = { fixture, write, index: 0, passAt: this.now() + offsetMs, seq: fixture.packets[0]!.data.readUInt16BE(2) };
    this.streams.push(state);
    return {
      restart: () => {
        state.index = 0;
        state.passAt = this.now();
      },
    };
  }

  start(tickMs = 10): void {
    this.t0 = Date.now();
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private now(): number {
    return this.t0 ? Date.now() - this.t0 : 0;
  }

  private tick(): void {
    const elapsed = this.now();
    for (const s of this.streams) {
      const { packets, durationMs, clockRate } = s.fixture;
      for (;;) {
        const p = packets[s.index]!;
        if (s.passAt + p.at > elapsed) break;
        const data = Buffer.from(p.data);
        data.writeUInt16BE(s.seq, 2);
        s.seq = (s.seq + 1) & 0xffff;
        data.writeUInt32BE((data.readUInt32BE(4) + Math.round((s.passAt * clockRate) / 1000)) >>> 0, 4);
        s.write(data);
        this.sent++;
        if (++s.index === packets.length) {
          s.index = 0;
          s.passAt += durationMs;
        }
      }
    }
  }
}
