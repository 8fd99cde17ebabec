/**
 * Memory and scale of idle bots (issue "Running bots as services"): N bots in this process join
 * rooms of an embedded server running in a child process; RSS per bot is the growth of this
 * process's RSS divided by N (baseline: the same process before any bot, measured in the same
 * run), plus the time to start and to stop them all. Target: ≥ 200 bots at < 20 MiB each.
 * Writes bench/results/scale.json.
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bot, autoAnswer, commands, type Plugin } from '../src/bot/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

function rss(): number {
  global.gc?.();
  return process.memoryUsage().rss;
}

/** Plugin sets measured: bare bots, and bots ready to answer calls and run chat commands. */
const setups: Record<string, () => Plugin<any>[]> = {
  bare: () => [],
  'autoAnswer+commands': () => [commands(), autoAnswer()],
};

interface Row {
  setup: string;
  bots: number;
  baselineMiB: number;
  rssMiB: number;
  perBotMiB: number;
  startS: number;
  stopS: number;
  joined: number;
}

/** One case, in a fresh process so RSS freed by an earlier case cannot hide this one's growth. */
async function measure(url: string, setup: string, n: number): Promise<Row> {
  const plugins = setups[setup]!;
  // Warm up module loading and JIT with one bot so the baseline holds the fixed costs.
  const warm = new Bot({ server: url, room: 'warmup', name: 'warm', plugins: plugins() });
  await warm.start();
  await warm.stop();
  await new Promise((r) => setTimeout(r, 200));
  const baseline = rss();
  const bots: Bot[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i += 25) {
    const batch = Array.from({ length: Math.min(25, n - i) }, (_, j) => new Bot({ server: url, room: `room-${(i + j) % 20}`, name: `idle-${i + j}`, plugins: plugins() }));
    await Promise.all(batch.map((b) => b.start()));
    bots.push(...batch);
  }
  const startS = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // settle: keep-alives, GC
  const joined = bots.filter((b) => b.channel.state.status === 'joined').length;
  const after = rss();
  const stopStarted = performance.now();
  await Promise.all(bots.map((b) => b.stop()));
  const stopS = (performance.now() - stopStarted) / 1000;
  return { setup, bots: n, baselineMiB: baseline / MiB, rssMiB: after / MiB, perBotMiB: (after - baseline) / n / MiB, startS, stopS, joined };
}

export async function run(counts: number[] = [50, 200, 300]): Promise<{ summary: string }> {
  const server = fork(join(here, 'fixtures', 'server-child.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve) => server.once('message', (m: { url: string }) => resolve(m.url)));
  const results: Row[] = [];
  try {
    for (const setup of Object.keys(setups)) {
      for (const n of counts) {
        const child = fork(fileURLToPath(import.meta.url), [], {
          execArgv: ['--import', 'tsx', '--expose-gc'],
          env: { ...process.env, SCALE_CASE: JSON.stringify({ url, setup, n }) },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        const row = await new Promise<Row>((resolve, reject) => {
          child.once('message', (m: Row) => resolve(m));
          child.once('exit', (code) => reject(new Error(`scale case ${setup}/${n} exited with ${code}`)));
        });
        results.push(row);
        console.log(
          `${setup.padEnd(20)} ${String(n).padStart(4)} bots: ${row.perBotMiB.toFixed(2)} MiB/bot (RSS ${row.baselineMiB.toFixed(0)} → ${row.rssMiB.toFixed(0)} MiB), start ${row.startS.toFixed(1)} s, stop ${row.stopS.toFixed(1)} s, joined ${row.joined}/${n}`,
        );
      }
    }
  } finally {
    server.send('close');
  }
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'scale.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2));
  const big = results[results.length - 1]!;
  return {
    summary: `${big.bots} idle bots (${big.setup}): ${big.perBotMiB.toFixed(2)} MiB each (target < 20), start ${big.startS.toFixed(1)} s, stop ${big.stopS.toFixed(1)} s, ${big.joined} joined`,
  };
}

if (process.env.SCALE_CASE) {
  const { url, setup, n } = JSON.parse(process.env.SCALE_CASE) as { url: string; setup: string; n: number };
  process.send!(await measure(url, setup, n));
  process.exit(0);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await run()).summary);
}
