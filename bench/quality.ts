/**
 * Recording quality benchmark (issue "Recorder", full quality): what the recorder bot gets from a
 * Chromium page with fake 1280x720 media against what the same page sends to a second Chromium
 * page in the same run (read from that page's getStats). With the bot's REMB bandwidth feedback
 * (the record plugin's default `maxBitrate`) and without it, for comparison. Target: ≥ 0.8×.
 * Writes bench/results/quality.json.
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

export async function run(): Promise<{ summary: string; runs: Record<string, QualityReport> } | { summary: string }> {
  if (!existsSync('/usr/bin/chromium')) return { summary: 'skipped: /usr/bin/chromium missing (apt-get install -y chromium)' };
  const server = await startServer();
  const harness = await BrowserHarness.launch(['--use-fake-device-for-media-stream']);
  const dir = await mkdtemp(join(tmpdir(), 'bench-quality-'));
  const runs: Record<string, QualityReport> = {};
  try {
    const cases: [string, { remb?: number; pageParams?: Record<string, number> }][] = [
      ['720p-remb', { remb: 4_000_000, pageParams: { width: 1280, height: 720 } }],
      ['720p-no-feedback', { pageParams: { width: 1280, height: 720 } }],
      ['default-remb', { remb: 4_000_000 }],
    ];
    for (const [name, opts] of cases) {
      runs[name] = await measureRecordingQuality({ harness, serverUrl: server.url, dir, durationMs: 10_000, warmupMs: 2000, ...opts });
      const r = runs[name]!;
      console.log(
        `${name.padEnd(18)} recorded ${r.recorded.videoKbps.toFixed(0)} kbps ${r.recorded.width}x${r.recorded.height}  browser→browser ${r.browser.videoKbps.toFixed(0)} kbps ${r.browser.width}x${r.browser.height}  ratio ${r.videoBitrateRatio.toFixed(2)}×`,
      );
    }
  } finally {
    await harness.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'quality.json'), JSON.stringify({ at: new Date().toISOString(), runs }, null, 2));
  const main = runs['720p-remb']!;
  return { summary: `recorded/browser video bitrate with REMB: ${main.videoBitrateRatio.toFixed(2)}× (target ≥ 0.8); without feedback ${runs['720p-no-feedback']!.videoBitrateRatio.toFixed(2)}×`, runs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  console.log(result.summary);
}
