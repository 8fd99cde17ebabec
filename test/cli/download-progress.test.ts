import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DownloadProgress, formatBytes, formatProgressLine, type ProgressOutput } from '../../src/cli/download-progress.js';
import { Bot, collectFiles, shareFolder } from '../../src/index.js';
import { testServer } from '../helpers/peers.js';

/** A writable that records what is written, posing as a terminal (or not). */
function terminal(isTTY: boolean): ProgressOutput & { text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as ProgressOutput & { text: () => string };
  out.isTTY = isTTY;
  out.columns = 0; // as under script(1): size unknown
  out.text = () => chunks.join('');
  return out;
}

describe('formatProgressLine', () => {
  it('draws a bar, percent, bytes and rate for one download', () => {
    const line = formatProgressLine([{ name: 'talk.webm', bytes: 1_000_000, size: 2_000_000, rate: 3_100_000 }], 99);
    expect(line).toMatch(/^⇣ talk\.webm \[#+-+\]  50%  1\.0 MB\/2\.0 MB  3\.1 MB\/s$/);
    const bar = /\[(#+)(-+)\]/.exec(line)!;
    expect(bar[1]!.length).toBe(bar[2]!.length);
  });

  it('sums several downloads, names them, and never exceeds the width', () => {
    const line = formatProgressLine(
      [
        { name: 'a.bin', bytes: 500, size: 1000, rate: 100 },
        { name: 'b.bin', bytes: 0, size: 1000, rate: 0 },
      ],
      200,
    );
    expect(line).toBe('⇣ 2 files  25%  500 B/2 kB  100 B/s  a.bin, b.bin');
    const long = formatProgressLine([{ name: 'x'.repeat(300), bytes: 1, size: 10, rate: 1 }], 40);
    expect(long.length).toBeLessThanOrEqual(40);
    expect(formatProgressLine([], 80)).toBe('');
    expect(formatProgressLine([{ name: 'empty', bytes: 0, size: 0, rate: 0 }], 80)).toContain('100%');
  });

  it('formats bytes in SI units', () => {
    expect([formatBytes(12), formatBytes(230_400), formatBytes(1_500_000), formatBytes(2.5e9)]).toEqual(['12 B', '230 kB', '1.5 MB', '2.5 GB']);
  });
});

describe('DownloadProgress with real bots', () => {
  let server: Awaited<ReturnType<typeof testServer>> | undefined;
  const bots: Bot[] = [];
  afterEach(async () => {
    await Promise.all(bots.splice(0).map((b) => b.stop()));
    await server?.close();
  });

  async function transfer(out: ProgressOutput): Promise<{ path: string; data: Buffer }> {
    server = await testServer();
    const shareDir = await mkdtemp(join(tmpdir(), 'progress-share-'));
    const data = randomBytes(2_000_000);
    await writeFile(join(shareDir, 'slides.pdf'), data);
    const collector = new Bot({ server: server.url, room: 'progress', name: 'Collector', plugins: [collectFiles({ dir: await mkdtemp(join(tmpdir(), 'progress-drop-')) })] });
    bots.push(collector);
    const progress = new DownloadProgress(out, 20);
    progress.watch(collector);
    await collector.start();
    const finished = firstValueFrom(collector.services.require('fileDownloads').finished$.pipe(timeout(30_000)));
    const sharer = new Bot({ server: server.url, room: 'progress', name: 'Sharer', plugins: [shareFolder({ dir: shareDir })] });
    bots.push(sharer);
    await sharer.start();
    const { path } = await finished;
    await new Promise((r) => setTimeout(r, 50));
    progress.close();
    return { path, data };
  }

  it('draws the bar in place on a terminal and prints one line per saved file', async () => {
    const out = terminal(true);
    const { path, data } = await transfer(out);
    expect(await readFile(path)).toEqual(data);
    const text = out.text();
    expect(text).toContain('\r\x1b[K⇣ slides.pdf [');
    expect(text).toContain(`✓ slides.pdf  2.0 MB  → ${path}\n`);
    expect(text.endsWith('\n') || text.endsWith('\r\x1b[K')).toBe(true); // nothing left drawn
  }, 60_000);

  it('writes nothing where the output is not a terminal (the log has the events)', async () => {
    const out = terminal(false);
    await transfer(out);
    expect(out.text()).toBe('');
  }, 60_000);
});
