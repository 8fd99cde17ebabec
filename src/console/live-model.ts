import { resolve } from 'node:path';
import { Observable, Subject, defer, interval, map, merge, mergeMap, of, share, startWith, throttleTime, asyncScheduler } from 'rxjs';
import type { Bot } from '../bot/bot.js';
import { BotMonitor, type BotView } from './bot-monitor.js';

/** Options of a {@link LiveModel}. */
export interface LiveModelOptions {
  /** The bots to show (asked on every snapshot: a supervisor replaces failed bots). */
  bots: () => readonly Bot[];
  /**
   * Stops a bot for the page's stop button (a supervisor must not restart it).
   * @defaultValue `bot.stop()`
   */
  stopBot?: (bot: Bot) => Promise<void>;
  /** How often the live view refreshes its counters (bitrates, durations). @defaultValue 1000 */
  intervalMs?: number;
}

/** What the live view shows at one moment. */
export interface LiveSnapshot {
  /** Unix ms. */
  at: number;
  bots: BotView[];
}

/**
 * The live part of the console: one {@link BotMonitor} per bot, a snapshot of everything on demand,
 * and `snapshots$`, a shared stream of snapshots every `intervalMs` and whenever a bot, call,
 * recording or transfer changes state (what the page's Server-Sent Events carry).
 */
export class LiveModel {
  readonly #options: LiveModelOptions;
  readonly #monitors = new Map<Bot, BotMonitor>();
  readonly #added = new Subject<BotMonitor>();
  readonly #timer: NodeJS.Timeout;
  #nextId = 1;
  /** Snapshots while someone listens: at once, every `intervalMs`, and on state changes. */
  readonly snapshots$: Observable<LiveSnapshot>;

  constructor(options: LiveModelOptions) {
    this.#options = options;
    // Bots are watched from the start, not from the first page view: uptime and reconnect times stay exact.
    this.#sync();
    this.#timer = setInterval(() => this.#sync(), options.intervalMs ?? 1000).unref();
    const changes$ = defer(() => {
      this.snapshot(); // attach monitors to the bots there are now
      return merge(of(...this.#monitors.values()), this.#added);
    }).pipe(mergeMap((m) => m.changes$));
    this.snapshots$ = merge(interval(options.intervalMs ?? 1000), changes$).pipe(
      startWith(0),
      throttleTime(150, asyncScheduler, { leading: true, trailing: true }),
      map(() => this.snapshot()),
      share(),
    );
  }

  #sync(): BotMonitor[] {
    const bots = this.#options.bots();
    for (const [bot, monitor] of this.#monitors) {
      if (!bots.includes(bot)) {
        monitor.close();
        this.#monitors.delete(bot);
      }
    }
    return bots.map((bot) => {
      let monitor = this.#monitors.get(bot);
      if (!monitor) {
        monitor = new BotMonitor(bot, `bot-${this.#nextId++}`);
        this.#monitors.set(bot, monitor);
        this.#added.next(monitor);
      }
      return monitor;
    });
  }

  /** Everything the live view shows, now. */
  snapshot(): LiveSnapshot {
    const now = Date.now();
    return { at: now, bots: this.#sync().map((m) => m.view(now)) };
  }

  /** Absolute directories of running recordings (the meetings list marks them as recording). */
  recordingDirs(): Set<string> {
    const dirs = new Set<string>();
    for (const m of this.#sync()) if (m.recordingDir) dirs.add(resolve(m.recordingDir));
    return dirs;
  }

  /** The HLS directory of a bot's `stream` plugin (served on `/live/<bot>/`), or undefined. */
  hlsDir(id: string): string | undefined {
    return this.#find(id)?.bot.services.get('stream')?.hlsDir;
  }

  #find(id: string): BotMonitor | undefined {
    return this.#sync().find((m) => m.id === id);
  }

  /** Stops a bot's recording; false when there is no such bot or it does not record. */
  async stopRecording(id: string): Promise<boolean> {
    return (await this.#find(id)?.stopRecording()) ?? false;
  }

  /** Stops a bot; false when there is no such bot. */
  async stopBot(id: string): Promise<boolean> {
    const monitor = this.#find(id);
    if (!monitor) return false;
    await (this.#options.stopBot ?? ((bot) => bot.stop()))(monitor.bot);
    return true;
  }

  /** Stops watching every bot (the bots keep running). Idempotent. */
  close(): void {
    clearInterval(this.#timer);
    for (const monitor of this.#monitors.values()) monitor.close();
    this.#monitors.clear();
    this.#added.complete();
  }
}
