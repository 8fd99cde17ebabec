/**
 * Live streaming cost: CPU of a 2-, 4- and 8-participant 640x360 composite (decoders + node
 * compositing + libx264/AAC encoder) against a baseline measured in the same run (the same
 * synthetic participants received without streaming), and whether it stays real-time.
 *
 * CPU is the bot process's user+system time including its reaped children (every ffmpeg), from
 * /proc/self/stat, over the wall time of each window. `npm run bench -- stream`; writes
 * bench/results/stream.json.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LiveComposite } from '../src/media/live-composite.js';
import { sleep, startSyntheticCall, type SyntheticCall } from '../test/media/helpers/synthetic-call.js';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds of this process and its reaped children. */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime are fields 14-17 (1-based); after "pid (comm) " they start at index 11.
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / TICKS;
}

/** One measured composite size. */
export interface StreamStep {
  participants: number;
  /** CPU cores used while streaming (CPU s / wall s). */
  cores: number;
  /** Cores of the same participants without streaming. */
  baselineCores: number;
  /** cores / baselineCores. */
  ratio: number;
  framesSent: number;
  framesDropped: number;
  /** No frame dropped and ≥ 97 % of the frames due were sent. */
  realTime: boolean;
}

/** Result written to bench/results/stream.json. */
export interface Result {
  settings: { width: number; height: number; fps: number; preset: string; videoKbps: number };
  machine: { cores: number; model: string };
  measureMs: number;
  steps: StreamStep[];
  summary: string;
}

async function window(ms: number, work: () => Promise<void>): Promise<{ cores: number; wall: number }> {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await work();
  const wall = (performance.now() - t0) / 1000;
  void ms;
  return { cores: (cpuSeconds() - cpu0) / wall, wall };
}

export async function run(options: { counts?: number[]; measureMs?: number } = {}): Promise<Result> {
  const counts = options.counts ?? [2, 4, 8];
  const measureMs = options.measureMs ?? 10_000;
  const settings = { width: 640, height: 360, fps: 15, preset: 'veryfast', videoKbps: 800 };
  const dir = await mkdtemp(join(tmpdir(), 'bench-stream-'));
  const steps: StreamStep[] = [];
  try {
    for (const n of counts) {
      const calls: SyntheticCall[] = [];
      for (let i = 0; i < n; i++) calls.push(await startSyntheticCall({ video: 'vp8', participantId: `p${i}` }));
      try {
        const baseline = await window(measureMs, async () => {
          await sleep(measureMs / 2);
        });
        let sent = 0;
        let dropped = 0;
        let due = 0;
        const streaming = await window(measureMs, async () => {
          const live = await LiveComposite.start({ target: join(dir, `n${n}`), ...settings });
          calls.forEach((c, i) => live.setParticipant(`p${i}`, c.sources));
          live.setTalking('p0', true);
          const t0 = Date.now();
          await sleep(measureMs);
          due = ((Date.now() - t0) / 1000) * settings.fps;
          sent = live.framesSent;
          dropped = live.framesDropped;
          await live.stop();
        });
        const step: StreamStep = {
          participants: n,
          cores: round(streaming.cores),
          baselineCores: round(baseline.cores),
          ratio: round(streaming.cores / Math.max(0.01, baseline.cores)),
          framesSent: sent,
          framesDropped: dropped,
          realTime: dropped === 0 && sent >= due * 0.97,
        };
        console.log(`[stream] ${n} participants: ${step.cores} cores (baseline ${step.baselineCores}, ×${step.ratio}), ${sent} frames, ${dropped} dropped, real-time ${step.realTime}`);
        steps.push(step);
      } finally {
        for (const c of calls) await c.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const result: Result = {
    settings,
    machine: { cores: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
    measureMs,
    steps,
    summary: steps.map((s) => `${s.participants}p ${s.cores} cores (×${s.ratio})${s.realTime ? '' : ' NOT real-time'}`).join(', '),
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'stream.json');
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  return result;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const counts = process.argv[2]?.split(',').map(Number);
  run({ counts }).then((r) => console.log(r.summary), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
