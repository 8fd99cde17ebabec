import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResults, readmeTable, renderReport, spliceReadme } from '../../bench/report.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
const out = mkdtempSync(join(tmpdir(), 'bench-report-out-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

function fixture(name: string, content: unknown): void {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
}

fixture('recorder-ramp.json', {
  name: 'recorder-ramp',
  date: '2026-11-29T05:00:00.000Z',
  cores: 2,
  maxLossFreeStreams: 60,
  stoppedBy: 'loss at 80 streams',
  targets: { streams: 100, nodeCpuRatio: 1.2 },
  steps: [
    { streams: 40, lossFree: true, nodeCpuRatio: 1.1, recordNodeCpuPerStream: 0.004, ffmpegCpuPerStream: 0.002 },
    { streams: 60, lossFree: true, nodeCpuRatio: 1.15, recordNodeCpuPerStream: 0.0045, ffmpegCpuPerStream: 0.0021, extra: 'ignored' },
    { streams: 80, lossFree: false, nodeCpuRatio: 1.3 },
  ],
});
fixture('calls.json', {
  at: '2026-11-28T10:00:00Z',
  machine: { cores: 4 },
  kinds: [{ kind: 'audio', knee: 30, firstMedianMs: 100, kneeMedianMs: 180, stoppedBy: 'setup 2.1× first step at 40 calls' }, { kind: 'broken' }],
});
fixture('channel.json', { ratio: 1.234, channelDocsPerSecond: 52000, target: 0.8, date: '2026-11-27T00:00:00Z' });
fixture('mystery.json', { summary: 'a bench | nobody\nknows yet' });
fixture('broken.json', '{ not json');
fixture('files.json', { date: '2026-11-29T03:39:05Z', webClient: { ratio: 0.77, target: 1.2, bot: { median: 0.95 } } });

describe('bench report', () => {
  const table = renderReport(loadResults(dir));
  const line = (text: string) => table.split('\n').find((l) => l.includes(text)) ?? '';

  it('renders the knee, its CPU ratio against bare receive and the unmet target of the recorder ramp', () => {
    expect(line('A/V streams recorded without loss')).toBe(
      '| `recorder-ramp` | A/V streams recorded without loss (one process) | 60 (then: loss at 80 streams) | ≥ 100 | — | **no** | 2026-11-29 | 2 |',
    );
    expect(line('node CPU per stream at 60 streams')).toContain('| 0.45 % of a core | ≤ 1.2× bare receive | 1.15× bare receive | yes |');
    expect(line('node CPU per stream at 60 streams')).toContain('ffmpeg 0.21 %');
  });

  it('renders calls per kind, skips a kind without figures, and takes cores from machine.cores', () => {
    expect(line('audio calls per process')).toBe(
      '| `calls` | audio calls per process (setup < 2× first step, none failed) | 30 (then: setup 2.1× first step at 40 calls) | — | 1.8× first-step setup (100 → 180 ms) | — | 2026-11-28 | 4 |',
    );
    expect(table).not.toContain('broken calls');
  });

  it('keeps a result it has no reader for, a broken file and files with missing parts, each on one line', () => {
    expect(line('`mystery`')).toContain('a bench \\| nobody knows yet');
    expect(line('`broken`')).toMatch(/unreadable broken\.json: /);
    expect(line('web client downloading')).toContain('| 0.95 MB/s | ≥ 1.2× | 0.77× browser | **no** | 2026-11-29 | — |');
    expect(line('documents/s')).toContain('| 52,000 docs/s | ≥ 0.8× raw | 1.23× raw ws + JSON.parse | yes | 2026-11-27 | — |');
    expect(table.split('\n').every((l) => l.startsWith('|') && l.endsWith('|'))).toBe(true);
  });

  it('puts the table between the README markers and nowhere else', () => {
    const readme = 'intro\n<!-- bench:begin -->\nold\n<!-- bench:end -->\noutro\n';
    const spliced = spliceReadme(readme, table);
    expect(readmeTable(spliced)).toBe(table);
    expect(spliced.startsWith('intro\n')).toBe(true);
    expect(spliced.endsWith('<!-- bench:end -->\noutro\n')).toBe(true);
    expect(() => spliceReadme('no markers', table)).toThrow(/bench:begin/);
  });

  it('`npm run bench -- report` prints the table and writes REPORT.md and the README section', async () => {
    const readme = join(out, 'README.md');
    writeFileSync(readme, '# x\n<!-- bench:begin -->\nstale\n<!-- bench:end -->\n');
    const { stdout } = await promisify(execFile)('npm', ['run', 'bench', '--', 'report'], {
      cwd: repo,
      env: { ...process.env, BENCH_RESULTS_DIR: dir, BENCH_README: readme },
    });
    expect(stdout).toContain(table);
    expect(stdout).toMatch(/✓ report .*6 result files/);
    expect(readFileSync(join(dir, 'REPORT.md'), 'utf8')).toContain(table);
    expect(readmeTable(readFileSync(readme, 'utf8'))).toBe(table);
  });

  it("the README's table is what the report renders from the committed results", () => {
    const results = join(repo, 'bench', 'results');
    let committed: string[] | undefined;
    try {
      committed = execFileSync('git', ['ls-files', '--', 'bench/results/*.json'], { cwd: repo }).toString().split('\n').filter(Boolean);
    } catch {
      committed = undefined; // not a git checkout: every result present counts
    }
    const expected = renderReport(loadResults(results, committed));
    expect(readmeTable(readFileSync(join(repo, 'README.md'), 'utf8')), 'run `npm run bench -- report` and commit README.md with the results').toBe(expected);
  });
});
