/**
 * Recording quality measurement, reusable by benchmarks: what the bot records from a Chromium page
 * (ffprobe of the file) against what the same page delivers to a second Chromium page (getStats).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { firstValueFrom, take, toArray, timeout } from 'rxjs';
import { ParticipantRecorder, startBandwidthFeedback } from '../../src/media/index.js';
import type { RemoteTrack } from '../../src/peer/index.js';
import type { BrowserHarness, RtpStats, TestPage } from '../helpers/chromium.js';
import { startBot, type TestBot } from './bot.js';

const run = promisify(execFile);

/** One media stream of a recorded file, from ffprobe. */
export interface ProbedStream {
  codec: string;
  /** Seconds. */
  duration: number;
  packets: number;
  /** Payload bytes of all packets. */
  bytes: number;
  /** bytes * 8 / duration / 1000. */
  kbps: number;
  width?: number;
  height?: number;
  /** packets / duration (video: frames per second). */
  fps?: number;
}

/** What ffprobe says about a recording. */
export interface ProbedFile {
  format: string;
  /** Container duration in seconds. */
  duration: number;
  audio?: ProbedStream;
  video?: ProbedStream;
}

/** Probes `file` with ffprobe: container duration plus per-stream codec, size, packet count and bitrate. */
export async function probeRecording(file: string): Promise<ProbedFile> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-show_packets', '-show_entries', 'packet=stream_index,size,pts_time:stream=index,codec_type,codec_name,width,height:format=format_name,duration', '-of', 'json', file], { maxBuffer: 256 << 20 });
  const j = JSON.parse(stdout) as {
    format: { format_name: string; duration?: string };
    streams: { index: number; codec_type: string; codec_name: string; width?: number; height?: number }[];
    packets: { stream_index: number; size: string; pts_time?: string }[];
  };
  const out: ProbedFile = { format: j.format.format_name, duration: Number(j.format.duration ?? 0) };
  for (const s of j.streams) {
    if (s.codec_type !== 'audio' && s.codec_type !== 'video') continue;
    const packets = j.packets.filter((p) => p.stream_index === s.index);
    const times = packets.map((p) => Number(p.pts_time)).filter((t) => Number.isFinite(t));
    const duration = times.length > 1 ? Math.max(...times) - Math.min(...times) : 0;
    const bytes = packets.reduce((a, p) => a + Number(p.size), 0);
    out[s.codec_type] = {
      codec: s.codec_name,
      duration,
      packets: packets.length,
      bytes,
      kbps: duration > 0 ? (bytes * 8) / duration / 1000 : 0,
      ...(s.codec_type === 'video' ? { width: s.width, height: s.height, fps: duration > 0 ? packets.length / duration : 0 } : {}),
    };
  }
  return out;
}

/** Records `page` (which must be in `room`) for `durationMs` through a bot that answers its call. */
export async function recordPage(options: {
  serverUrl: string;
  room: string;
  page: TestPage;
  durationMs: number;
  dir: string;
  bot?: TestBot;
  /** Send REMB with this bitrate (bits/s) to the page, so Chromium raises its send rate. @defaultValue no feedback */
  remb?: number;
}): Promise<{ file: string; wallSeconds: number; probe: ProbedFile; sender: RtpStats | null }> {
  const remb = options.remb;
  const bot =
    options.bot ??
    (await startBot(options.serverUrl, options.room, {
      answer: () => 'accept',
      ...(remb ? { onPeerConnection: (pc) => void startBandwidthFeedback(pc, { maxBitrate: remb }) } : {}),
    }));
  try {
    const incoming = firstValueFrom(bot.calls.calls$.pipe(take(1), timeout(15_000)));
    await options.page.t.call(bot.id);
    const call = await incoming;
    await call.waitFor('connected', 20_000);
    const tracks: RemoteTrack[] = await firstValueFrom(call.tracks$.pipe(take(2), toArray(), timeout(15_000)));
    const recorder = new ParticipantRecorder({ dir: options.dir, baseName: `page-${Date.now()}`, participantId: options.page.id });
    const segment = await recorder.startSegment(tracks);
    if (!segment) throw new Error('the recorder did not start a segment');
    const started = Date.now();
    await new Promise((r) => setTimeout(r, options.durationMs));
    const segments = await recorder.stop();
    const wallSeconds = (Date.now() - started) / 1000;
    const sender = await options.page.t.outboundVideoStats(bot.id);
    await options.page.t.hangup(bot.id);
    const file = segments[0]!.file;
    return { file, wallSeconds, probe: await probeRecording(file), sender };
  } finally {
    if (!options.bot) await bot.close();
  }
}

/** Video (and audio) a Chromium page receives from `sender` over `durationMs`, from getStats deltas. */
export async function measureBrowserReceive(receiver: TestPage, sender: TestPage, durationMs: number): Promise<{ videoKbps: number; audioKbps: number; width?: number; height?: number; fps: number }> {
  const a = await receiver.t.remoteStats(sender.id);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const b = await receiver.t.remoteStats(sender.id);
  const s = (Date.now() - t0) / 1000;
  const kbps = (x?: { bytes: number } | null, y?: { bytes: number } | null) => (((y?.bytes ?? 0) - (x?.bytes ?? 0)) * 8) / s / 1000;
  return {
    videoKbps: kbps(a.video, b.video),
    audioKbps: kbps(a.audio, b.audio),
    width: b.video?.frameWidth,
    height: b.video?.frameHeight,
    fps: ((b.video?.frames ?? 0) - (a.video?.frames ?? 0)) / s,
  };
}

/** Result of {@link measureRecordingQuality}. */
export interface QualityReport {
  durationMs: number;
  recorded: { videoKbps: number; audioKbps: number; width?: number; height?: number; fps?: number; file: string; durationS: number; senderLimitation?: string };
  browser: { videoKbps: number; audioKbps: number; width?: number; height?: number; fps: number; senderLimitation?: string };
  /** recorded.videoKbps / browser.videoKbps. */
  videoBitrateRatio: number;
}

/**
 * Full-quality comparison: one Chromium page sends to the recording bot for `durationMs`, then the
 * same page sends to a second Chromium page for the same time (after `warmupMs` for the browser's
 * bandwidth estimate to ramp, as a call would have by then). Sequential so both get the same CPU.
 */
export async function measureRecordingQuality(options: {
  harness: BrowserHarness;
  serverUrl: string;
  dir: string;
  durationMs?: number;
  warmupMs?: number;
  /** Page query params, e.g. `{ width: 1280, height: 720 }` for a 720p capture request. */
  pageParams?: Record<string, string | number>;
  /** REMB bitrate the recording bot announces (bits/s). @defaultValue none */
  remb?: number;
}): Promise<QualityReport> {
  const durationMs = options.durationMs ?? 8000;
  const room = `quality-${Date.now()}`;
  const sender = await options.harness.openPage(options.serverUrl, { name: 'QualitySender', ...options.pageParams });
  const receiver = await options.harness.openPage(options.serverUrl, { name: 'QualityReceiver' });
  try {
    await sender.t.join(room);
    await receiver.t.join(room);
    const rec = await recordPage({ serverUrl: options.serverUrl, room, page: sender, durationMs, dir: options.dir, remb: options.remb });
    await sender.t.call(receiver.id);
    const deadline = Date.now() + 20_000;
    while ((await receiver.t.state()).calls[0]?.state !== 'connected') {
      if (Date.now() > deadline) throw new Error('the second page did not connect');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, options.warmupMs ?? 0));
    const browser = { ...(await measureBrowserReceive(receiver, sender, durationMs)), senderLimitation: (await sender.t.outboundVideoStats(receiver.id))?.qualityLimitationReason };
    const v = rec.probe.video;
    const recorded = {
      videoKbps: v?.kbps ?? 0,
      audioKbps: rec.probe.audio?.kbps ?? 0,
      width: v?.width,
      height: v?.height,
      fps: v?.fps,
      file: join(rec.file),
      durationS: rec.probe.duration,
      senderLimitation: rec.sender?.qualityLimitationReason,
    };
    return { durationMs, recorded, browser, videoBitrateRatio: browser.videoKbps > 0 ? recorded.videoKbps / browser.videoKbps : 0 };
  } finally {
    await sender.close();
    await receiver.close();
  }
}
