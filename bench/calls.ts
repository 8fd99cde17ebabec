/**
 * Calls per process (`npm run bench -- calls`): one bot (autoAnswer, in this process) holds calls
 * with werift peers (a child process, bench/fixtures/calls-peers.ts) over the embedded channeling
 * server (another child). For each kind — idle, audio only, audio + video (realistic VP8) — the
 * held calls grow in steps, and at each step a few probe calls measure setup latency (Offer →
 * connected, at the caller) under that load. The knee is the last step before the probes' median
 * reaches 2× the first step's, or before a call fails.
 *
 * `CALLS_BENCH_STEPS` (default 10,20,40,60,80,100,150,200) and `CALLS_BENCH_KINDS` (default
 * idle,audio,av) change the ramp. Writes bench/results/calls.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bot, autoAnswer } from '../src/bot/index.js';
import type { CallKind, FromCallers, ToCallers } from './fixtures/calls-peers.js';
import { machineCores } from './recorder-session.js';

const here = dirname(fileURLToPath(import.meta.url));
const PROBES = 5;
/** A kind's ramp stops after this long (the whole bench stays within a few minutes). */
const KIND_CAP_MS = 75_000;

/** One step of one kind. */
export interface CallsStep {
  calls: number;
  /** Probe setups (Offer → connected), ms. */
  setupMs: number[];
  medianMs: number;
  /** Fraction of one core this (the bot's) process used during the probes. */
  botCpu: number;
  rssMb: number;
  loadAverage: number;
  error?: string;
}

/** The ramp of one kind. */
export interface CallsKind {
  kind: CallKind;
  steps: CallsStep[];
  /** Most held calls with every call set up and probes below 2× the first step's median. */
  knee: number;
  firstMedianMs: number;
  kneeMedianMs: number;
  stoppedBy: string;
}

/** Written to bench/results/calls.json. */
export interface CallsResult {
  name: 'calls';
  date: string;
  cores: number;
  probes: number;
  kinds: CallsKind[];
  summary: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A typed request/response over a child's IPC channel. */
function ask<T extends FromCallers['type']>(child: ChildProcess, msg: ToCallers | undefined, type: T): Promise<Extract<FromCallers, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromCallers) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FromCallers, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`callers exited ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (msg) child.send(msg);
  });
}

async function rampKind(url: string, kind: CallKind, counts: number[]): Promise<CallsKind> {
  const room = `calls-bench-${kind}`;
  const bot = new Bot({ server: url, room, name: 'Calls bench', plugins: [autoAnswer({ autoConference: false })] });
  await bot.start();
  const child = fork(join(here, 'fixtures', 'calls-peers.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const steps: CallsStep[] = [];
  let stoppedBy = `reached ${counts.at(-1)} calls`;
  const started = performance.now();
  try {
    await ask(child, { type: 'init', url, room, botId: bot.channel.id!, kind, probes: PROBES }, 'ready');
    for (const n of counts) {
      const grown = await ask(child, { type: 'grow', total: n }, 'grown');
      if (grown.error) {
        stoppedBy = `a call failed on the way to ${n}: ${grown.error}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 1500)); // let the last handshakes' work settle
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const probed = await ask(child, { type: 'probe' }, 'probed');
      const cpu = process.cpuUsage(cpu0);
      const step: CallsStep = {
        calls: n,
        setupMs: probed.ms.map((x) => Math.round(x)),
        medianMs: Math.round(median(probed.ms)),
        botCpu: (cpu.user + cpu.system) / 1000 / (performance.now() - t0),
        rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
        loadAverage: loadavg()[0]!,
        ...(probed.error ? { error: probed.error } : {}),
      };
      steps.push(step);
      console.log(
        `${kind.padEnd(5)} ${String(n).padStart(4)} calls: setup median ${step.medianMs} ms (${step.setupMs.join(', ')}), bot ${(step.botCpu * 100).toFixed(0)} % CPU, ` +
          `RSS ${step.rssMb} MB, load ${step.loadAverage.toFixed(1)}${step.error ? `, probe failed: ${step.error}` : ''}`,
      );
      if (probed.error) {
        stoppedBy = `a probe call failed at ${n}: ${probed.error}`;
        break;
      }
      if (step.medianMs >= 2 * steps[0]!.medianMs) {
        stoppedBy = `setup ${(step.medianMs / steps[0]!.medianMs).toFixed(1)}× the first step at ${n} calls`;
        break;
      }
      if (performance.now() - started > KIND_CAP_MS) {
        stoppedBy = `time cap after ${n} calls`;
        break;
      }
    }
  } finally {
    child.send({ type: 'stop' } satisfies ToCallers);
    await new Promise((r) => child.once('exit', r));
    await bot.stop();
  }
  const knee = steps.filter((s) => !s.error && s.medianMs < 2 * steps[0]!.medianMs).at(-1);
  return { kind, steps, knee: knee?.calls ?? 0, firstMedianMs: steps[0]?.medianMs ?? NaN, kneeMedianMs: knee?.medianMs ?? NaN, stoppedBy };
}

/** Runs every kind's ramp and writes bench/results/calls.json. */
export async function run(): Promise<CallsResult> {
  const counts = (process.env.CALLS_BENCH_STEPS ?? '10,20,40,60,80,100,150,200').split(',').map(Number);
  const kinds = (process.env.CALLS_BENCH_KINDS ?? 'idle,audio,av').split(',') as CallKind[];
  const server = fork(join(here, 'fixtures', 'server-child.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve) => server.once('message', (m: { url: string }) => resolve(m.url)));
  const results: CallsKind[] = [];
  try {
    for (const kind of kinds) results.push(await rampKind(url, kind, counts));
  } finally {
    server.send('close');
  }
  const summary = results.map((k) => `${k.kind}: ${k.knee} calls (setup ${k.firstMedianMs} → ${k.kneeMedianMs} ms; then ${k.stoppedBy})`).join('; ');
  const result: CallsResult = { name: 'calls', date: new Date().toISOString(), cores: machineCores(), probes: PROBES, kinds: results, summary };
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'calls.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.log(result.summary);
  process.exit(0);
}
