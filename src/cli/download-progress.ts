import type { Writable } from 'node:stream';
import { filter, take, type Subscription } from 'rxjs';
import type { Bot } from '../bot/bot.js';
import type { FileDownloads } from '../bot/plugins/files.js';

/** One download as the progress line shows it. */
export interface DownloadView {
  name: string;
  /** Verified bytes so far. */
  bytes: number;
  /** File size. */
  size: number;
  /** Bytes per second. */
  rate: number;
}

/** `1.5 MB`, `230 kB`, `12 B` (SI units, like the benchmark figures). Pure. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${Math.round(n)} B`;
}

/**
 * The progress line for the running downloads, at most `width` characters. One download gets a
 * bar (`name [#####-----]  50%  1.0/2.0 MB  3.1 MB/s`); several get a total and their names. Pure.
 */
export function formatProgressLine(downloads: readonly DownloadView[], width: number): string {
  if (downloads.length === 0) return '';
  const bytes = downloads.reduce((n, d) => n + d.bytes, 0);
  const size = downloads.reduce((n, d) => n + d.size, 0);
  const rate = downloads.reduce((n, d) => n + d.rate, 0);
  const percent = size > 0 ? Math.floor((bytes * 100) / size) : 100;
  const figures = `${String(percent).padStart(3)}%  ${formatBytes(bytes)}/${formatBytes(size)}  ${formatBytes(rate)}/s`;
  let line: string;
  if (downloads.length === 1) {
    const name = downloads[0]!.name;
    const barWidth = Math.max(10, Math.min(30, width - figures.length - Math.min(name.length, 24) - 6));
    const filled = Math.round((barWidth * percent) / 100);
    const shownName = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    line = `⇣ ${shownName} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${figures}`;
  } else {
    line = `⇣ ${downloads.length} files ${figures}  ${downloads.map((d) => d.name).join(', ')}`;
  }
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/** A terminal stream: a progress line is drawn only where `isTTY` is true. */
export type ProgressOutput = Writable & { isTTY?: boolean; columns?: number };

/**
 * Draws a progress line for the downloads of {@link collectFiles} on a terminal (`spreed-bot run`
 * with stderr on a TTY): redrawn in place every `intervalMs`, and one line per finished or failed
 * file. On a stream that is not a terminal it stays silent; the JSON log has the same events.
 */
export class DownloadProgress {
  private readonly active = new Map<object, DownloadView>();
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  /** @param intervalMs Redraw period. @defaultValue 250 */
  constructor(
    private readonly out: ProgressOutput,
    private readonly intervalMs = 250,
  ) {}

  /** Shows the downloads of `bot` once it runs, if it has the collectFiles plugin. */
  watch(bot: Bot): void {
    if (!this.out.isTTY) return;
    this.subscriptions.push(
      bot.state$.pipe(filter((s) => s.status === 'running'), take(1)).subscribe(() => {
        const downloads = bot.services.get('fileDownloads');
        if (downloads) this.track(downloads);
      }),
    );
  }

  /** Shows every download of `downloads` from now on. */
  track(downloads: FileDownloads): void {
    this.subscriptions.push(
      downloads.started$.subscribe(({ info, fetch }) => {
        const view: DownloadView = { name: info.name, bytes: 0, size: info.size, rate: 0 };
        this.active.set(fetch, view);
        this.schedule();
        fetch.progress$.subscribe({
          next: (p) => {
            view.bytes = p.bytes;
            view.rate = p.rate;
          },
          error: () => undefined, // reported by done below
        });
        fetch.done.then(
          (result) => this.finish(fetch, `✓ ${info.name}  ${formatBytes(result.size)}  → ${result.path}`),
          (error: unknown) => this.finish(fetch, `✗ ${info.name}: ${error instanceof Error ? error.message : String(error)}`),
        );
      }),
    );
  }

  /** Stops drawing and clears the line. */
  close(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    this.active.clear();
  }

  private finish(key: object, message: string): void {
    if (!this.active.delete(key)) return;
    this.clear();
    this.out.write(`${message}\n`);
    this.draw();
  }

  private schedule(): void {
    this.timer ??= setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  private clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(): void {
    if (this.active.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    // A terminal of unknown size reports 0 columns (e.g. under script(1)): assume 80.
    this.out.write(`\r\x1b[K${formatProgressLine([...this.active.values()], Math.max(20, (this.out.columns || 80) - 1))}`);
    this.drawn = true;
  }
}
