/**
 * Recorder benchmark: how many A/V streams one process records without loss, and what the recorder
 * costs on top of bare werift receive.
 *
 * A child process runs N werift senders replaying pre-encoded VP8 (320x240, 20 fps, ~300 kbps) +
 * Opus RTP in real time. This process runs N werift receivers. For each N it measures, on the same
 * connections: (1) bare receive (count packets, sequence gaps), then (2) the same plus one
 * ParticipantRecorder (ffmpeg -c copy → webm) per stream, repeated RECORDER_BENCH_ROUNDS times
 * (default 2) with the recorders stopped in between; the least disturbed window of each kind counts.
 * The machinery is in recorder-session.ts; `recorder-ramp` runs it with realistic streams.
 *
 * Standalone: `npx tsx bench/recorder.ts [N,N,...]`. Writes bench/results/recorder.json.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeStep, machineCores, RecorderSession, type StepResult } from './recorder-session.js';

export type { StepResult } from './recorder-session.js';

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

/** Bare/record window pairs per stream count. */
const ROUNDS = Number(process.env.RECORDER_BENCH_ROUNDS ?? 2);

/** Runs the benchmark for each stream count (ascending; stops after the first count with loss). */
export async function run(options: { streamCounts?: number[]; measureMs?: number } = {}): Promise<Result> {
  const counts = options.streamCounts ?? [10, 20, 40];
  const measureMs = options.measureMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'bench-recorder-'));
  const steps: StepResult[] = [];
  const session = RecorderSession.open('light');
  try {
    for (const n of counts) {
      await session.grow(n);
      const result = await session.step({ measureMs, rounds: ROUNDS, dir });
      steps.push(result);
      console.log(describeStep(result));
      if (!result.lossFree) break;
    }
  } finally {
    await session.close();
    await rm(dir, { recursive: true, force: true });
  }
  const lossFree = steps.filter((s) => s.lossFree).map((s) => s.streams);
  const result: Result = {
    name: 'recorder',
    date: new Date().toISOString(),
    cores: machineCores(),
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
