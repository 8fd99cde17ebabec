/**
 * Recorder ramp to the knee (`npm run bench -- recorder-ramp`): realistic A/V streams (a 720p
 * camera: VP8 1.5 Mbit/s at 30 fps, ~1100-byte packets, a keyframe every 3 s; Opus 50 packets/s)
 * from werift senders in a child process to werift receivers in this process, added in steps
 * (default 10, 20, 40, 60, 80, 100, 120) until the first loss (werift sequence gaps, reorder-buffer
 * losses, feed drops, an unreadable file) or until this process is CPU-bound (≥ 0.9 of a core
 * while recording), or after 4 minutes. Kernel drops on the receivers' UDP sockets are counted too
 * (`RECORDER_BENCH_RCVBUF=0` measures with the kernel's default receive buffer). Each step measures bare receive of the streams, then the same streams
 * recorded, in one window each (`RECORDER_RAMP_MEASURE_MS`, default 8000).
 *
 * Standalone: `npx tsx bench/recorder-ramp.ts [N,N,...]`; `RECORDER_RAMP_BARE=1` measures bare
 * receive only (for `--cpu-prof`). Writes bench/results/recorder-ramp.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeStep, machineCores, RECEIVE_BUFFER, RecorderSession, SetupError, type StepResult } from './recorder-session.js';

/** What the ramp found; written to bench/results/recorder-ramp.json. */
export interface RampResult {
  name: 'recorder-ramp';
  date: string;
  cores: number;
  profile: string;
  /** Receive buffer of the receivers' UDP sockets (`RECORDER_BENCH_RCVBUF`), 0: the kernel's default. */
  receiveBufferBytes: number;
  measureMs: number;
  steps: StepResult[];
  /** Largest stream count recorded without loss. */
  maxLossFreeStreams: number;
  /** Why the ramp ended. */
  stoppedBy: string;
  targets: { streams: number; nodeCpuRatio: number };
  summary: string;
}

/** Node CPU (fraction of one core) from which this process counts as CPU-bound: its JS runs on one thread. */
const CPU_BOUND = 0.9;
/** The ramp takes no further step after this long, so that one run stays within ~5 minutes. */
const TIME_CAP_MS = 240_000;

/** Why the ramp stops after `step`, or undefined to go on. */
function stopReason(step: StepResult, elapsedMs: number): string | undefined {
  if (!step.lossFree) return `loss at ${step.streams} streams`;
  if (step.recordNodeCpu >= CPU_BOUND) return `node CPU-bound at ${step.streams} streams`;
  if (elapsedMs > TIME_CAP_MS) return `time cap after ${step.streams} streams`;
  return undefined;
}

/** Runs the ramp and writes its result. */
export async function run(options: { streamCounts?: number[]; measureMs?: number; bareOnly?: boolean } = {}): Promise<RampResult> {
  const counts = options.streamCounts ?? [10, 20, 40, 60, 80, 100, 120];
  const measureMs = options.measureMs ?? Number(process.env.RECORDER_RAMP_MEASURE_MS ?? 8000);
  const bareOnly = options.bareOnly ?? process.env.RECORDER_RAMP_BARE === '1';
  const dir = await mkdtemp(join(tmpdir(), 'bench-recorder-ramp-'));
  const steps: StepResult[] = [];
  let stoppedBy = `reached ${counts.at(-1)} streams`;
  const session = RecorderSession.open('realistic');
  const started = performance.now();
  try {
    for (const n of counts) {
      try {
        await session.grow(n);
      } catch (error) {
        if (!(error instanceof SetupError)) throw error;
        stoppedBy = `setting up ${n} streams failed: ${error.message}`;
        console.warn(stoppedBy);
        break;
      }
      const step = await session.step({ measureMs, rounds: 1, dir, bareOnly });
      steps.push(step);
      console.log(describeStep(step));
      const reason = stopReason(step, performance.now() - started);
      if (reason) {
        stoppedBy = reason;
        break;
      }
    }
  } finally {
    await session.close();
    await rm(dir, { recursive: true, force: true });
  }
  const lossFree = steps.filter((s) => s.lossFree);
  const knee = lossFree.at(-1);
  const maxLossFreeStreams = knee?.streams ?? 0;
  const targets = { streams: 100, nodeCpuRatio: 1.2 };
  const summary =
    `${maxLossFreeStreams} realistic A/V streams recorded without loss (target ≥ ${targets.streams}), then ${stoppedBy}` +
    (knee ? `; at ${knee.streams}: node ${(knee.recordNodeCpu * 100).toFixed(0)} % of a core, ${knee.nodeCpuRatio.toFixed(2)}× bare receive (target ≤ ${targets.nodeCpuRatio})` : '');
  const result: RampResult = {
    name: 'recorder-ramp',
    date: new Date().toISOString(),
    cores: machineCores(),
    profile: 'VP8 1.5 Mbit/s 30 fps ~1100-byte packets, keyframe every 3 s; Opus 50 pkt/s; one PeerConnection per participant',
    receiveBufferBytes: RECEIVE_BUFFER,
    measureMs,
    steps,
    maxLossFreeStreams,
    stoppedBy,
    targets,
    summary,
  };
  if (!bareOnly) {
    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'recorder-ramp.json');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const counts = process.argv[2]?.split(',').map(Number);
  run({ streamCounts: counts }).then(
    (r) => {
      console.log(r.summary);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
