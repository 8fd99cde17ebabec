/**
 * Recorder benchmark: how many A/V streams one process records without loss, and what the recorder
 * costs on top of bare werift receive.
 *
 * A child process runs N werift senders replaying pre-encoded VP8 (320x240, 20 fps, ~300 kbps) +
 * Opus RTP in real time. This process runs N werift receivers. For each N it measures, on the same
 * connections: (1) bare receive (count packets, sequence gaps), then (2) the same plus one
 * ParticipantRecorder (ffmpeg -c copy → webm) per stream, repeated RECORDER_BENCH_ROUNDS times
 * (default 2) with the recorders stopped in between; the least disturbed window of each kind counts.
 * Node CPU is process.cpuUsage over the window; ffmpeg CPU comes from /proc/<pid>/stat of this
 * process's ffmpeg children.
 *
 * Standalone: `npx tsx bench/recorder.ts [N,N,...]`. Writes bench/results/recorder.json.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MediaStreamTrack, RTCPeerConnection, type RTCSessionDescription } from 'werift';
import { recordingCodecs } from '../src/media/codecs.js';
import { seqDiff } from '../src/media/jitter-buffer.js';
import { ParticipantRecorder } from '../src/media/participant-recorder.js';
import type { SegmentInfo } from '../src/media/recording-segment.js';
import { remoteTrackSource } from '../src/media/werift-source.js';
import type { RemoteTrackSource } from '../src/media/types.js';
import { makeRtpFixture, RtpReplayer } from '../test/media/helpers/rtp-fixture.js';

/** Figures for one stream count. */
export interface StepResult {
  streams: number;
  /** Fraction of one core, whole process, during bare receive (least disturbed window). */
  bareNodeCpu: number;
  /** Fraction of one core, whole process, while recording. */
  recordNodeCpu: number;
  /** recordNodeCpu / bareNodeCpu. */
  nodeCpuRatio: number;
  /** Sum over all ffmpeg children, fraction of one core. */
  ffmpegCpu: number;
  bareNodeCpuPerStream: number;
  recordNodeCpuPerStream: number;
  ffmpegCpuPerStream: number;
  /** RTP packets per second received, all streams. */
  packetsPerSecond: number;
  /** Sequence gaps seen by werift receive during the bare window / the recording window. */
  bareLost: number;
  recordReceiveLost: number;
  /** Losses the recorders' reorder buffers declared. */
  recorderLost: number;
  /** Packets the recorders' feeds dropped because ffmpeg did not keep up. */
  feedDrops: number;
  /** Recordings ffprobe could read with both streams. */
  filesOk: number;
  lossFree: boolean;
  /** Every measured window (fraction of one core), in order. */
  windows: { bare: number[]; record: number[] };
}

/** Result of {@link run}. */
export interface Result {
  name: 'recorder';
  date: string;
  cores: number;
  measureMs: number;
  steps: StepResult[];
  /** Largest stream count recorded without loss. */
  maxLossFreeStreams: number;
  targets: { streams: number; nodeCpuRatio: number };
}

const codecs = recordingCodecs({ h264: false });
const pcConfig = { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, codecs };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Bare/record window pairs per stream count. */
const ROUNDS = Number(process.env.RECORDER_BENCH_ROUNDS ?? 2);

/** True when ffprobe reads a VP8 and an Opus stream from the segment's file. */
function readable(segment: SegmentInfo): boolean {
  if (segment.state !== 'finished') console.warn(`segment ${segment.file} ${segment.state}: ${segment.error ?? ''}`);
  try {
    const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', segment.file]).toString();
    return out.includes('vp8') && out.includes('opus');
  } catch {
    console.warn(`unreadable recording ${segment.file}: state ${segment.state} ${segment.error ?? ''}`);
    return false;
  }
}

// ---- sender child ---------------------------------------------------------------------------

type ToSender = { type: 'answer'; id: number; sdp: RTCSessionDescription } | { type: 'stop' };
type FromSender = { type: 'offer'; id: number; sdp: RTCSessionDescription } | { type: 'ready' };

async function senderMain(count: number): Promise<void> {
  const media = await makeRtpFixture({ seconds: 4, video: 'vp8' });
  const replayer = new RtpReplayer();
  const pcs: RTCPeerConnection[] = [];
  const answers = new Map<number, (sdp: RTCSessionDescription) => void>();
  process.on('message', (msg: ToSender) => {
    if (msg.type === 'answer') answers.get(msg.id)?.(msg.sdp);
    if (msg.type === 'stop') {
      replayer.stop();
      void Promise.all(pcs.map((pc) => pc.close())).finally(() => process.exit(0));
    }
  });
  await Promise.all(
    Array.from({ length: count }, async (_, id) => {
      const pc = new RTCPeerConnection(pcConfig);
      pcs.push(pc);
      const audio = new MediaStreamTrack({ kind: 'audio' });
      const video = new MediaStreamTrack({ kind: 'video' });
      pc.addTransceiver(audio, { direction: 'sendonly' });
      pc.addTransceiver(video, { direction: 'sendonly' });
      replayer.add(media.audio!, (d) => audio.writeRtp(d));
      replayer.add(media.video!, (d) => video.writeRtp(d));
      await pc.setLocalDescription(await pc.createOffer());
      const answer = new Promise<RTCSessionDescription>((r) => answers.set(id, r));
      process.send!({ type: 'offer', id, sdp: pc.localDescription! } satisfies FromSender);
      await pc.setRemoteDescription(await answer);
    }),
  );
  replayer.start();
  process.send!({ type: 'ready' } satisfies FromSender);
}

// ---- receiver side --------------------------------------------------------------------------

interface Receiver {
  pc: RTCPeerConnection;
  sources: RemoteTrackSource[];
  received: number;
  videoReceived: number;
  gaps: number;
}

function watchGaps(receiver: Receiver, source: RemoteTrackSource): void {
  let last: number | undefined;
  source.rtp$.subscribe((rtp) => {
    receiver.received++;
    if (source.kind === 'video') receiver.videoReceived++;
    const seq = rtp.header.sequenceNumber;
    if (last !== undefined) {
      const d = seqDiff(seq, last);
      if (d > 1) receiver.gaps += d - 1;
      if (d > 0) last = seq;
    } else last = seq;
  });
}

async function answer(sdp: RTCSessionDescription, id: number): Promise<{ receiver: Receiver; answer: RTCSessionDescription }> {
  const pc = new RTCPeerConnection(pcConfig);
  const receiver: Receiver = { pc, sources: [], received: 0, videoReceived: 0, gaps: 0 };
  pc.onTrack.subscribe((track) => {
    const transceiver = pc.getTransceivers().find((t) => t.receiver.tracks.includes(track))!;
    const add = () => {
      const source = remoteTrackSource(track, transceiver.receiver, `p${id}`);
      receiver.sources.push(source);
      watchGaps(receiver, source);
    };
    if (track.ssrc !== undefined && track.codec) add();
    else track.onReceiveRtp.once(() => add());
  });
  await pc.setRemoteDescription(sdp);
  await pc.setLocalDescription(await pc.createAnswer());
  return { receiver, answer: pc.localDescription! };
}

/** ffmpeg children of this process (one `pgrep`, called outside the measured windows). */
function ffmpegChildren(): string[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // none
  }
}

/** utime + stime ticks of `pids`, read from /proc without spawning anything. */
function ticksOf(pids: readonly string[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

/** Measures CPU of this process (fraction of a core) and of ffmpeg children over `ms`. */
async function measure(ms: number): Promise<{ node: number; ffmpeg: number }> {
  // Child processes are looked up before the window: spawning pgrep inside it would be charged
  // to this process's CPU and inflate the recording figure.
  const pids = ffmpegChildren();
  const ff0 = ticksOf(pids);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const ffTicks = ticksOf(pids) - ff0;
  return { node: (cpu.user + cpu.system) / 1000 / wall, ffmpeg: (ffTicks * 10) / wall };
}

async function step(streams: number, measureMs: number, dir: string): Promise<StepResult> {
  const self = fileURLToPath(import.meta.url);
  const child: ChildProcess = fork(self, ['--sender', String(streams)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const receivers: Receiver[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (msg: FromSender) => {
      if (msg.type === 'ready') resolve();
      if (msg.type === 'offer') {
        void answer(msg.sdp, msg.id).then(({ receiver, answer }) => {
          receivers.push(receiver);
          child.send({ type: 'answer', id: msg.id, sdp: answer } satisfies ToSender);
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`sender exited ${code}`)));
  });
  await ready;
  // Wait until every receiver has both tracks flowing.
  for (let i = 0; i < 150 && receivers.some((r) => r.sources.length < 2 || r.videoReceived === 0); i++) await sleep(100);
  const withoutVideo = receivers.filter((r) => r.videoReceived === 0).length;
  if (withoutVideo) console.warn(`${withoutVideo} of ${streams} receivers got no video`);
  await sleep(2000);

  const sum = (f: (r: Receiver) => number) => receivers.reduce((a, r) => a + f(r), 0);
  const bareWindows: number[] = [];
  const recordWindows: number[] = [];
  const ffmpegWindows: number[] = [];
  let bareLost = 0;
  let recordReceiveLost = 0;
  let recorderLost = 0;
  let drops = 0;
  let filesOk = 0;
  let packetsPerSecond = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Bare receive, then the same connections with recorders; repeated so that a burst of load
    // from elsewhere on this shared machine spoils one window, not the figure.
    let gaps0 = sum((r) => r.gaps);
    const received0 = sum((r) => r.received);
    const bare = await measure(measureMs);
    bareWindows.push(bare.node);
    bareLost += sum((r) => r.gaps) - gaps0;
    packetsPerSecond = ((sum((r) => r.received) - received0) * 1000) / measureMs;

    const recorders: ParticipantRecorder[] = [];
    for (let i = 0; i < receivers.length; i += 8) {
      await Promise.all(
        receivers.slice(i, i + 8).map(async (r, k) => {
          const recorder = new ParticipantRecorder({ dir, baseName: `s${streams}-r${round}-${i + k}`, participantId: `p${i + k}` });
          recorders.push(recorder);
          await recorder.startSegment(r.sources);
        }),
      );
    }
    await sleep(3000);
    gaps0 = sum((r) => r.gaps);
    const lost0 = recorders.reduce((a, r) => a + r.stats.packetsLost, 0);
    const drops0 = recorders.reduce((a, r) => a + r.stats.packetsDropped, 0);
    const rec = await measure(measureMs);
    recordWindows.push(rec.node);
    ffmpegWindows.push(rec.ffmpeg);
    recordReceiveLost += sum((r) => r.gaps) - gaps0;
    recorderLost += recorders.reduce((a, r) => a + r.stats.packetsLost, 0) - lost0;
    drops += recorders.reduce((a, r) => a + r.stats.packetsDropped, 0) - drops0;
    const segments = (await Promise.all(recorders.map((r) => r.stop()))).flat();
    if (round === 0) filesOk = segments.filter(readable).length;
    await sleep(2000);
  }
  child.send({ type: 'stop' } satisfies ToSender);
  await Promise.all(receivers.map((r) => r.pc.close()));
  await new Promise((r) => child.once('exit', r));
  const lossFree = bareLost === 0 && recordReceiveLost === 0 && recorderLost === 0 && drops === 0 && filesOk === streams;
  // The least disturbed window of each kind: noise from other processes only ever adds CPU.
  const bare = Math.min(...bareWindows);
  const record = Math.min(...recordWindows);
  const ffmpeg = Math.min(...ffmpegWindows);
  return {
    streams,
    bareNodeCpu: bare,
    recordNodeCpu: record,
    nodeCpuRatio: record / bare,
    ffmpegCpu: ffmpeg,
    bareNodeCpuPerStream: bare / streams,
    recordNodeCpuPerStream: record / streams,
    ffmpegCpuPerStream: ffmpeg / streams,
    windows: { bare: bareWindows, record: recordWindows },
    packetsPerSecond,
    bareLost,
    recordReceiveLost,
    recorderLost,
    feedDrops: drops,
    filesOk,
    lossFree,
  };
}

/** Runs the benchmark for each stream count (ascending; stops after the first count with loss). */
export async function run(options: { streamCounts?: number[]; measureMs?: number } = {}): Promise<Result> {
  const counts = options.streamCounts ?? [10, 20, 40];
  const measureMs = options.measureMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'bench-recorder-'));
  const steps: StepResult[] = [];
  try {
    for (const n of counts) {
      const result = await step(n, measureMs, dir);
      steps.push(result);
      console.log(
        `${n} A/V streams: node ${(result.bareNodeCpu * 100).toFixed(1)}% bare → ${(result.recordNodeCpu * 100).toFixed(1)}% recording ` +
          `(×${result.nodeCpuRatio.toFixed(2)}), ffmpeg ${(result.ffmpegCpu * 100).toFixed(1)}% total / ${(result.ffmpegCpuPerStream * 100).toFixed(2)}% per stream, ` +
          `${result.packetsPerSecond.toFixed(0)} pkt/s, lost bare ${result.bareLost} / recv ${result.recordReceiveLost} / recorder ${result.recorderLost} / feed ${result.feedDrops}, files ok ${result.filesOk}/${n}`,
      );
      if (!result.lossFree) break;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const lossFree = steps.filter((s) => s.lossFree).map((s) => s.streams);
  const result: Result = {
    name: 'recorder',
    date: new Date().toISOString(),
    cores: Number(execFileSync('nproc').toString().trim()),
    measureMs,
    steps,
    maxLossFreeStreams: lossFree.length ? Math.max(...lossFree) : 0,
    targets: { streams: 40, nodeCpuRatio: 1.3 },
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'recorder.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--sender') {
    void senderMain(Number(process.argv[3]));
  } else {
    const counts = process.argv[2]?.split(',').map(Number);
    run({ streamCounts: counts }).then(
      (r) => {
        console.log(`max loss-free A/V streams: ${r.maxLossFreeStreams} (target ${r.targets.streams}); results in bench/results/recorder.json`);
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  }
}
