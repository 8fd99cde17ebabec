import { Readable } from 'node:stream';
import prism from 'prism-media';
import { RtpHeader, RtpPacket } from 'werift';
import { MediaError } from './errors.js';
import { spawnFfmpeg, type FfmpegInfo, type FfmpegProcess } from './ffmpeg.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Where Opus RTP goes: a werift `MediaStreamTrack` (anything with `writeRtp`). */
export interface RtpSink {
  writeRtp(rtp: RtpPacket | Buffer): void;
}

/** Options for {@link playFile} and {@link playSilence}. */
export interface MediaOutOptions {
  /** Negotiated Opus payload type (werift rewrites it to the sender's anyway). @defaultValue 111 */
  payloadType?: number;
  /** Loop the input. @defaultValue false */
  loop?: boolean;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

/** A running playback. */
export interface Playback {
  /** Resolves when the input ended or {@link stop} was called; rejects never. Carries an error if ffmpeg failed. */
  readonly done: Promise<{ packets: number; error?: MediaError }>;
  /** Stops playback and ffmpeg (idempotent). */
  stop(): void;
}

/** One Opus frame of silence (RFC 6716 §3.1: TOC 0xF8, 20 ms CELT FB mono, zero-length frame). */
export const OPUS_SILENCE_FRAME = Buffer.from([0xf8, 0xff, 0xfe]);

const FRAME_MS = 20;
const FRAME_SAMPLES = 960;

/**
 * Paces Opus packets from `frames` into `sink` as RTP in real time: one packet per 20 ms (scheduled
 * against the start time, so timers do not drift), timestamp +960, marker on the first packet.
 */
function paceOpus(frames: AsyncIterable<Buffer>, sink: RtpSink, payloadType: number, signal: AbortSignal): Promise<number> {
  const ssrc = (Math.random() * 0xffffffff) >>> 0;
  let seq = (Math.random() * 0xffff) | 0;
  let timestamp = (Math.random() * 0xffffffff) >>> 0;
  let sent = 0;
  const start = performance.now();
  return (async () => {
    for await (const frame of frames) {
      if (signal.aborted) break;
      const due = start + sent * FRAME_MS - performance.now();
      if (due > 1) await new Promise((r) => setTimeout(r, due));
      if (signal.aborted) break;
      const header = new RtpHeader({ payloadType, sequenceNumber: seq, timestamp, ssrc, marker: sent === 0 });
      sink.writeRtp(new RtpPacket(header, frame));
      seq = (seq + 1) & 0xffff;
      timestamp = (timestamp + FRAME_SAMPLES) >>> 0;
      sent++;
    }
    return sent;
  })();
}

/**
 * Plays any file ffmpeg can read into an audio track: ffmpeg → Ogg/Opus (20 ms frames) on stdout →
 * prism-media `OggDemuxer` → RTP, paced in real time.
 */
export async function playFile(input: string, sink: RtpSink, options: MediaOutOptions = {}): Promise<Playback> {
  const logger = options.logger ?? silentLogger;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin']; // no -re: the pacer reads at real time and the pipe pushes back
  if (options.loop) args.push('-stream_loop', '-1');
  args.push('-i', input, '-vn', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k', '-frame_duration', '20', '-application', 'audio');
  args.push('-page_duration', '20000', '-f', 'ogg', 'pipe:1');
  const ffmpeg: FfmpegProcess = await spawnFfmpeg(args, { ffmpeg: options.ffmpeg, logger, stdout: 'pipe' });
  const abort = new AbortController();
  const demuxer = new prism.opus.OggDemuxer();
  demuxer.on('error', (err: Error) => logger.debug({ err }, 'ogg demux error'));
  const stdout = ffmpeg.child.stdout as Readable;
  stdout.on('error', () => undefined);
  stdout.pipe(demuxer);
  const sending = paceOpus(demuxer as AsyncIterable<Buffer>, sink, options.payloadType ?? 111, abort.signal).catch(() => 0);
  const done = (async () => {
    const packets = await sending;
    abort.abort();
    ffmpeg.kill();
    const exit = await ffmpeg.exited;
    // Our own kill after the last packet is not an error; a failure before any packet is.
    return { packets, error: packets === 0 ? exit.error : undefined };
  })();
  return {
    done,
    stop: () => {
      abort.abort();
      demuxer.destroy();
      ffmpeg.kill();
    },
  };
}

/** Plays Opus silence frames until stopped (keeps a track alive, e.g. before real audio). */
export function playSilence(sink: RtpSink, options: Pick<MediaOutOptions, 'payloadType'> = {}): Playback {
  const abort = new AbortController();
  const frames = (async function* () {
    while (!abort.signal.aborted) yield OPUS_SILENCE_FRAME;
  })();
  const done = paceOpus(frames, sink, options.payloadType ?? 111, abort.signal).then((packets) => ({ packets }));
  return { done, stop: () => abort.abort() };
}
