/**
 * The recorder benches' machinery: a child process of werift senders replaying pre-encoded VP8 +
 * Opus RTP in real time (one PeerConnection per participant, audio + video), werift receivers in
 * this process, and one measured step: bare receive of every stream, then the same connections
 * with one ParticipantRecorder (ffmpeg -c copy → webm) per stream. Streams are added to the same
 * connections step after step, so a ramp does not set up its first connections again.
 *
 * Node CPU is process.cpuUsage over a window; ffmpeg CPU comes from /proc/<pid>/stat of this
 * process's ffmpeg children, the senders' from the child's; event-loop utilisation tells whether
 * this process was CPU-bound. The media: fixtures/media-profile.ts; the `realistic` participants
 * start at different points of the clip, so their keyframes do not coincide.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MediaStreamTrack, RTCPeerConnection, type RTCSessionDescription } from 'werift';
import { recordingCodecs } from '../src/media/codecs.js';
import { raiseReceiveBuffers, RECEIVE_BUFFER_BYTES } from '../src/peer/index.js';
import { seqDiff } from '../src/media/jitter-buffer.js';
import { ParticipantRecorder } from '../src/media/participant-recorder.js';
import type { SegmentInfo } from '../src/media/recording-segment.js';
import type { RemoteTrackSource } from '../src/media/types.js';
import { remoteTrackSource } from '../src/media/werift-source.js';
import { RtpReplayer } from '../test/media/helpers/rtp-fixture.js';
import { mediaFixture, type MediaProfile } from './fixtures/media-profile.js';

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
  /** Event-loop utilisation of this process while recording (1 = never idle: CPU-bound). */
  recordEventLoop: number;
  /** Fraction of one core the sender child used while recording (it shares the machine). */
  senderCpu: number;
  /** 1-minute load average of the machine at the end of the step. */
  loadAverage: number;
  /** RTP packets per second received, all streams. */
  packetsPerSecond: number;
  /** Mbit/s of RTP received, all streams. */
  megabitsPerSecond: number;
  /** Sequence gaps seen by werift receive during the bare window / the recording window. */
  bareLost: number;
  recordReceiveLost: number;
  /** Datagrams the kernel dropped on this process's UDP sockets (receive buffer full) in both windows. */
  socketDrops: number;
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

const codecs = recordingCodecs({ h264: false });
const pcConfig = { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, codecs };
/**
 * Receive buffer of the receivers' UDP sockets, as the peer layer sets it (`RECORDER_BENCH_RCVBUF`
 * bytes; `0`: the kernel's default, as before the peer layer raised it).
 */
export const RECEIVE_BUFFER = Number(process.env.RECORDER_BENCH_RCVBUF ?? RECEIVE_BUFFER_BYTES);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

type ToSender = { type: 'add'; count: number } | { type: 'answer'; id: number; sdp: RTCSessionDescription } | { type: 'stop' };
type FromSender = { type: 'offer'; id: number; sdp: RTCSessionDescription } | { type: 'added'; total: number };

async function senderMain(profile: MediaProfile): Promise<void> {
  const media = await mediaFixture(profile);
  const replayer = new RtpReplayer();
  const pcs: RTCPeerConnection[] = [];
  const answers = new Map<number, (sdp: RTCSessionDescription) => void>();
  let adding = Promise.resolve();
  const addOne = async (id: number) => {
    const pc = new RTCPeerConnection(pcConfig);
    pcs.push(pc);
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const video = new MediaStreamTrack({ kind: 'video' });
    pc.addTransceiver(audio, { direction: 'sendonly' });
    const { sender } = pc.addTransceiver(video, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const answer = new Promise<RTCSessionDescription>((r) => answers.set(id, r));
    process.send!({ type: 'offer', id, sdp: pc.localDescription! } satisfies FromSender);
    await pc.setRemoteDescription(await answer);
    // Participants start at different points of the clip (a prime stride spreads them).
    const phase = profile === 'realistic' ? (id * 317) % media.video!.durationMs : 0;
    replayer.add(media.audio!, (d) => audio.writeRtp(d), phase);
    const stream = replayer.add(media.video!, (d) => video.writeRtp(d), phase);
    // Like a browser's encoder: a PLI gets a keyframe now, not at the next scheduled one.
    sender.onPictureLossIndication.subscribe(() => stream.restart());
  };
  replayer.start();
  process.on('message', (msg: ToSender) => {
    if (msg.type === 'answer') answers.get(msg.id)?.(msg.sdp);
    if (msg.type === 'add') {
      adding = adding.then(async () => {
        const first = pcs.length;
        // In batches: hundreds of simultaneous DTLS handshakes starve the media already flowing.
        for (let i = 0; i < msg.count; i += 5) {
          await Promise.all(Array.from({ length: Math.min(5, msg.count - i) }, (_, k) => addOne(first + i + k)));
        }
        process.send!({ type: 'added', total: pcs.length } satisfies FromSender);
      });
    }
    if (msg.type === 'stop') {
      replayer.stop();
      void Promise.all(pcs.map((pc) => pc.close())).finally(() => process.exit(0));
    }
  });
}

// ---- receiver side --------------------------------------------------------------------------

interface Receiver {
  pc: RTCPeerConnection;
  sources: RemoteTrackSource[];
  received: number;
  bytes: number;
  videoReceived: number;
  gaps: number;
}

function watchGaps(receiver: Receiver, source: RemoteTrackSource): void {
  let last: number | undefined;
  source.rtp$.subscribe((rtp) => {
    receiver.received++;
    receiver.bytes += rtp.payload.length + 12;
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
  const receiver: Receiver = { pc, sources: [], received: 0, bytes: 0, videoReceived: 0, gaps: 0 };
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
  if (RECEIVE_BUFFER) raiseReceiveBuffers(pc, RECEIVE_BUFFER);
  return { receiver, answer: pc.localDescription! };
}

/** Datagrams the kernel dropped on this process's UDP sockets (full receive buffer), from /proc. */
function udpDrops(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 12 && inodes.has(f[9]!)) drops += Number(f[12]);
  }
  return drops;
}

/** ffmpeg children of this process (one `pgrep`, called outside the measured windows). */
function ffmpegChildren(): string[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // none
  }
}

/** utime + stime ticks per pid, read from /proc without spawning anything (exited pids left out). */
function ticksOf(pids: readonly string[]): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

/** Ticks spent between two readings by the processes alive at both. */
function ticksBetween(before: Map<string, number>, after: Map<string, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? t);
  return sum;
}

/** CPU (fraction of a core) of this process, its ffmpeg children and `other` over `ms`. */
async function measure(ms: number, other: string): Promise<{ node: number; ffmpeg: number; other: number; eventLoop: number }> {
  // Child processes are looked up before the window: spawning pgrep inside it would be charged
  // to this process's CPU and inflate the recording figure.
  const pids = [...ffmpegChildren(), other];
  const ticks0 = ticksOf(pids);
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const ticks = ticksOf(pids);
  const otherTicks = (ticks.get(other) ?? 0) - (ticks0.get(other) ?? 0);
  return {
    node: (cpu.user + cpu.system) / 1000 / wall,
    ffmpeg: ((ticksBetween(ticks0, ticks) - otherTicks) * 10) / wall,
    other: (otherTicks * 10) / wall,
    eventLoop: performance.eventLoopUtilization(elu0).utilization,
  };
}

/** Streams could not be set up (not a loss of media that flowed). */
export class SetupError extends Error {
  readonly code = 'SETUP_FAILED';
}

/** Options of {@link RecorderSession.step}. */
export interface StepOptions {
  /** Length of each measured window. */
  measureMs: number;
  /** Bare/record window pairs; the least disturbed window of each kind counts. */
  rounds: number;
  /** Folder for the recordings. */
  dir: string;
  /** Only bare receive (for profiling): no recorders, record figures equal bare ones. */
  bareOnly?: boolean;
}

/** A sender child and this process's receivers, grown step by step. */
export class RecorderSession {
  private readonly receivers: Receiver[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  private constructor(profile: MediaProfile) {
    const self = fileURLToPath(import.meta.url);
    this.child = fork(self, ['--sender', profile], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((r) => this.child.once('exit', r));
    this.child.on('message', (msg: FromSender) => {
      if (msg.type !== 'offer') return;
      void answer(msg.sdp, msg.id).then(({ receiver, answer }) => {
        this.receivers.push(receiver);
        this.child.send({ type: 'answer', id: msg.id, sdp: answer } satisfies ToSender);
      });
    });
  }

  /** Starts the sender child (it encodes its clip first). */
  static open(profile: MediaProfile): RecorderSession {
    return new RecorderSession(profile);
  }

  /** Adds streams until there are `total`, and waits until every one has audio and video flowing. */
  async grow(total: number): Promise<void> {
    const count = total - this.receivers.length;
    if (count <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: FromSender) => {
        if (msg.type !== 'added') return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null) => reject(new Error(`sender exited ${code}`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ type: 'add', count } satisfies ToSender);
    });
    for (let i = 0; i < 600 && this.receivers.some((r) => r.pc.connectionState !== 'connected' || r.videoReceived === 0); i++) {
      if (this.receivers.some((r) => r.pc.connectionState === 'failed')) break;
      await sleep(100);
    }
    const notConnected = this.receivers.filter((r) => r.pc.connectionState !== 'connected');
    if (notConnected.length) {
      const states = new Map<string, number>();
      for (const r of notConnected) {
        const dtls = (r.pc as unknown as { dtlsTransports?: { state: string }[] }).dtlsTransports?.[0]?.state ?? '?';
        const key = `${r.pc.connectionState} (ICE ${r.pc.iceConnectionState}, DTLS ${dtls})`;
        states.set(key, (states.get(key) ?? 0) + 1);
      }
      const detail = [...states].map(([k, n]) => `${n} ${k}`).join(', ');
      throw new SetupError(`${notConnected.length} of ${total} connections did not connect: ${detail}`);
    }
    const withoutVideo = this.receivers.filter((r) => r.videoReceived === 0).length;
    if (withoutVideo) throw new SetupError(`${withoutVideo} of ${total} receivers got no video`);
    await sleep(2000);
  }

  /** Measures bare receive and recording of every stream there is now. */
  async step(options: StepOptions): Promise<StepResult> {
    const { measureMs, rounds, dir } = options;
    const receivers = this.receivers;
    const streams = receivers.length;
    const senderPid = String(this.child.pid);
    const sum = (f: (r: Receiver) => number) => receivers.reduce((a, r) => a + f(r), 0);
    const bareWindows: number[] = [];
    const recordWindows: number[] = [];
    const ffmpegWindows: number[] = [];
    let eventLoop = 0;
    let senderCpu = 0;
    let bareLost = 0;
    let recordReceiveLost = 0;
    let recorderLost = 0;
    let drops = 0;
    let filesOk = options.bareOnly ? streams : 0;
    let socketDrops = 0;
    let packetsPerSecond = 0;
    let megabitsPerSecond = 0;
    for (let round = 0; round < rounds; round++) {
      // Bare receive, then the same connections with recorders; repeated so that a burst of load
      // from elsewhere on this shared machine spoils one window, not the figure.
      let gaps0 = sum((r) => r.gaps);
      const received0 = sum((r) => r.received);
      const bytes0 = sum((r) => r.bytes);
      let drops0 = udpDrops();
      const bare = await measure(measureMs, senderPid);
      socketDrops += udpDrops() - drops0;
      bareWindows.push(bare.node);
      bareLost += sum((r) => r.gaps) - gaps0;
      packetsPerSecond = ((sum((r) => r.received) - received0) * 1000) / measureMs;
      megabitsPerSecond = ((sum((r) => r.bytes) - bytes0) * 8) / 1000 / measureMs;
      if (options.bareOnly) {
        recordWindows.push(bare.node);
        ffmpegWindows.push(0);
        eventLoop = Math.max(eventLoop, bare.eventLoop);
        senderCpu = Math.max(senderCpu, bare.other);
        continue;
      }

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
      const feedDrops0 = recorders.reduce((a, r) => a + r.stats.packetsDropped, 0);
      drops0 = udpDrops();
      const rec = await measure(measureMs, senderPid);
      socketDrops += udpDrops() - drops0;
      recordWindows.push(rec.node);
      ffmpegWindows.push(rec.ffmpeg);
      eventLoop = Math.max(eventLoop, rec.eventLoop);
      senderCpu = Math.max(senderCpu, rec.other);
      recordReceiveLost += sum((r) => r.gaps) - gaps0;
      recorderLost += recorders.reduce((a, r) => a + r.stats.packetsLost, 0) - lost0;
      drops += recorders.reduce((a, r) => a + r.stats.packetsDropped, 0) - feedDrops0;
      const segments = (await Promise.all(recorders.map((r) => r.stop()))).flat();
      if (round === 0) filesOk = segments.filter(readable).length;
      await sleep(2000);
    }
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
      recordEventLoop: eventLoop,
      senderCpu,
      loadAverage: loadavg()[0]!,
      windows: { bare: bareWindows, record: recordWindows },
      socketDrops,
      packetsPerSecond,
      megabitsPerSecond,
      bareLost,
      recordReceiveLost,
      recorderLost,
      feedDrops: drops,
      filesOk,
      lossFree,
    };
  }

  /** Stops the senders and closes every receiver. */
  async close(): Promise<void> {
    this.child.send({ type: 'stop' } satisfies ToSender);
    await Promise.all(this.receivers.map((r) => r.pc.close()));
    await this.exited;
  }
}

/** One console line per step. */
export function describeStep(r: StepResult): string {
  return (
    `${r.streams} A/V streams (${r.packetsPerSecond.toFixed(0)} pkt/s, ${r.megabitsPerSecond.toFixed(1)} Mbit/s): node ${(r.bareNodeCpu * 100).toFixed(1)}% bare → ` +
    `${(r.recordNodeCpu * 100).toFixed(1)}% recording (×${r.nodeCpuRatio.toFixed(2)}, event loop ${(r.recordEventLoop * 100).toFixed(0)}%), ` +
    `ffmpeg ${(r.ffmpegCpu * 100).toFixed(1)}% total / ${(r.ffmpegCpuPerStream * 100).toFixed(2)}% per stream, senders ${(r.senderCpu * 100).toFixed(0)}%, ` +
    `load ${r.loadAverage.toFixed(1)}, lost bare ${r.bareLost} / recv ${r.recordReceiveLost} / recorder ${r.recorderLost} / feed ${r.feedDrops} (kernel socket drops ${r.socketDrops}), files ok ${r.filesOk}/${r.streams}`
  );
}

/** Cores of this machine. */
export function machineCores(): number {
  return Number(execFileSync('nproc').toString().trim());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--sender') {
  void senderMain(process.argv[3] as MediaProfile);
}
