/**
 * The bench runner (`npm run bench [names…]`): runs every `bench/*.ts` module that exports
 * `run(): Promise<unknown>` (except this file), in sequence, or only the ones named on argv
 * (`npm run bench channel files`). Each bench writes `bench/results/<name>.json` itself and
 * returns a result whose `summary` string (when present) is printed here. `report` runs last, after
 * any bench, so bench/results/REPORT.md and the README's table follow the results.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

interface BenchModule {
  run(): Promise<unknown>;
}

function isBench(value: unknown): value is BenchModule {
  return typeof (value as { run?: unknown } | null)?.run === 'function';
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).map((name) => basename(name, '.ts'));
  const available = readdirSync(here)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'run.ts')
    .map((file) => basename(file, '.ts'))
    .sort((a, b) => (a === 'channel' ? -1 : b === 'channel' ? 1 : a.localeCompare(b)));
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  const benches = available.filter((name) => name !== 'report' && (wanted.length === 0 || wanted.includes(name)));
  const selected = available.includes('report') ? [...benches, 'report'] : benches;
  const summary: { name: string; ok: boolean; seconds: number; line: string }[] = [];
  for (const name of selected) {
    const mod: unknown = await import(pathToFileURL(join(here, `${name}.ts`)).href);
    if (!isBench(mod)) continue; // helpers without run()
    console.log(`\n▶ ${name}`);
    const started = performance.now();
    try {
      const result = await mod.run();
      const given = (result as { summary?: unknown } | null)?.summary;
      const text = typeof given === 'string' ? given : (JSON.stringify(result) ?? 'done');
      const line = text.length > 200 ? `${text.slice(0, 199)}…` : text;
      summary.push({ name, ok: true, seconds: (performance.now() - started) / 1000, line });
    } catch (error) {
      console.error(error);
      summary.push({ name, ok: false, seconds: (performance.now() - started) / 1000, line: (error as Error).message });
    }
  }
  console.log('\nSummary');
  for (const s of summary) console.log(`  ${s.ok ? '✓' : '✗'} ${s.name.padEnd(12)} ${s.seconds.toFixed(1).padStart(6)} s  ${s.line}`);
  return summary.every((s) => s.ok) ? 0 : 1;
}

process.exitCode = await main();
