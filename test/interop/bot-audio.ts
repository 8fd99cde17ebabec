/**
 * Audio the bot sends in interop tests: a werift track fed with Opus RTP. With ffmpeg, a 440 Hz
 * tone encoded by libopus (so the page measures real audio energy); without it, Opus silence
 * frames. Used until the tests switch to src/media's media-out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { MediaStreamTrack } from 'werift';
import { RtpHeader, RtpPacket } from 'werift/nonstandard';

export interface BotAudio {
  track: MediaStreamTrack;
  /** 'tone' (ffmpeg libopus) or 'silence' (generated Opus silence frames). */
  source: 'tone' | 'silence';
  close(): void;
}

/** Starts a 440 Hz tone track (ffmpeg) or, with `silence` or no ffmpeg, an Opus silence track. */
export async function startBotAudio(options: { silence?: boolean } = {}): Promise<BotAudio> {
  const track = new MediaStreamTrack({ kind: 'audio' });
  if (!options.silence) {
    const tone = await startTone(track).catch(() => undefined);
    if (tone) return tone;
  }
  // 20 ms Opus silence frames (TOC 0xf8: CELT FB 20 ms, mono), 50 packets/s.
  let seq = 0;
  let ts = 0;
  const timer = setInterval(() => {
    track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: (ts += 960) >>> 0, ssrc: 1, marker: false }), Buffer.from([0xf8, 0xff, 0xfe])));
  }, 20);
  return { track, source: 'silence', close: () => clearInterval(timer) };
}

async function startTone(track: MediaStreamTrack): Promise<BotAudio> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const port = (socket.address() as AddressInfo).port;
  socket.on('message', (msg) => {
    // RTP only: ffmpeg also sends RTCP sender reports (PT 200..204) to the same port with rtcp_port unset.
    if (msg.length < 12 || (msg[1]! & 0x7f) >= 72 && (msg[1]! & 0x7f) <= 76) return;
    track.writeRtp(msg);
  });
  const ffmpeg: ChildProcess = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '2', '-c:a', 'libopus', '-b:a', '48k', '-payload_type', '111', '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${port + 1}`],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    ffmpeg.once('error', reject);
    ffmpeg.once('spawn', () => resolve());
  });
  let closed = false;
  return {
    track,
    source: 'tone',
    close: () => {
      if (closed) return;
      closed = true;
      ffmpeg.kill('SIGKILL');
      socket.close();
    },
  };
}
