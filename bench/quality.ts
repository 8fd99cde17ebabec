/**
 * Recording quality benchmark (issue "Recorder", full quality): what the recorder bot gets from a
 * Chromium page with fake 1280x720 media against what the same page sends to a second Chromium
 * page in the same run (read from that page's getStats). With the bot's REMB bandwidth feedback
 * (the record plugin's default `maxBitrate`) and without it, for comparison. Target: ≥ 0.8×.
 *
 * Chromium adapts resolution to CPU load, which on a shared 2-core machine changes from one
 * 10-second window to the next; so each case runs QUALITY_BENCH_ROUNDS times (default 3), cases
 * interleaved, and the median ratio counts. Writes bench/results/quality.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '../src/server/index.js';
import { BrowserHarness } from '../test/helpers/chromium.js';
import { measureRecordingQuality, type QualityReport } from '../test/interop/quality.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The median of `values` (the mean of the middle two for an even count). Pure. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ROUNDS = Number(process.env.QUALITY_BENCH_ROUNDS ?? 3);

export async function run(): Promise<{ summary: string; runs: Record<string, QualityReport[]>; medians: Record<string, number> } | { summary: string }> {
  if (!existsSync('/usr/bin/chromium')) return { summary: 'skipped: /usr/bin/chromium missing (apt-get install -y chromium)' };
  const server = await startServer();
  const harness = await BrowserHarness.launch(['--use-fake-device-for-media-stream']);
  const dir = await mkdtemp(join(tmpdir(), 'bench-quality-'));
  const runs: Record<string, QualityReport[]> = {};
  try {
    const cases: [string, { remb?: number; pageParams?: Record<string, number> }][] = [
      ['720p-remb', { remb: 4_000_000, pageParams: { width: 1280, height: 720 } }],
      ['720p-no-feedback', { pageParams: { width: 1280, height: 720 } }],
      ['default-remb', { remb: 4_000_000 }],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, opts] of cases) {
        const r = await measureRecordingQuality({ harness, serverUrl: server.url, dir, durationMs: 10_000, warmupMs: 2000, ...opts });
        (runs[name] ??= []).push(r);
        console.log(
          `${name.padEnd(18)} recorded ${r.recorded.videoKbps.toFixed(0)} kbps ${r.recorded.width}x${r.recorded.height}  browser→browser ${r.browser.videoKbps.toFixed(0)} kbps ${r.browser.width}x${r.browser.height}  ratio ${r.videoBitrateRatio.toFixed(2)}×`,
        );
      }
    }
  } finally {
    await harness.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(join(here, 'results'), { recursive: true });
  const medians = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, median(list.map((r) => r.videoBitrateRatio))]));
  await writeFile(join(here, 'results', 'quality.json'), JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, medians, runs }, null, 2));
  const spread = (name: string) => runs[name]!.map((r) => r.videoBitrateRatio.toFixed(2)).join(', ');
  return {
    summary:
      `recorded/browser video bitrate with REMB: median ${medians['720p-remb']!.toFixed(2)}× (${spread('720p-remb')}; target ≥ 0.8); ` +
      `without feedback ${medians['720p-no-feedback']!.toFixed(2)}× (${spread('720p-no-feedback')})`,
    runs,
    medians,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  console.log(result.summary);
}
