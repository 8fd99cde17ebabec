import { Bot, type BotOptions } from '../bot/bot.js';
import type { Logger } from '../util/logger.js';

/** Options of a {@link BotSupervisor}. */
export interface SupervisorOptions {
  logger: Logger;
  /** First retry delay after a failed start or a lost bot. @defaultValue 1000 */
  retryMinMs?: number;
  /** Longest retry delay. @defaultValue 60000 */
  retryMaxMs?: number;
  /** Builds a bot (tests inject their own). @defaultValue `new Bot(options)` */
  create?: (options: BotOptions) => Bot;
}

/** What the supervisor knows about one bot. */
export interface SupervisedBot {
  readonly name: string;
  readonly bot: Bot | undefined;
  readonly attempts: number;
  readonly lastError?: Error;
  readonly running: boolean;
}

interface Entry {
  options: BotOptions;
  bot?: Bot;
  attempts: number;
  lastError?: Error;
  running: boolean;
  timer?: NodeJS.Timeout;
  /** An operator stopped this bot (console): never restarted. */
  stopped?: boolean;
}

/**
 * Runs many bots in one process, each isolated: a bot that fails to start (bad PIN, server
 * down) is retried with exponential backoff and reported; the others keep working.
 */
export class BotSupervisor {
  readonly #entries: Entry[] = [];
  readonly #options: SupervisorOptions;
  #stopping = false;

  constructor(bots: BotOptions[], options: SupervisorOptions) {
    this.#options = options;
    for (const b of bots) this.#entries.push({ options: b, attempts: 0, running: false });
  }

  /** The supervised bots. */
  get bots(): SupervisedBot[] {
    return this.#entries.map((e) => ({ name: e.options.name, bot: e.bot, attempts: e.attempts, lastError: e.lastError, running: e.running }));
  }

  /**
   * Starts every bot; resolves when each has started or failed its first attempt. A bot whose
   * server is unreachable keeps its first attempt open (the channel retries), so this may not
   * resolve until {@link BotSupervisor.stop} — callers that must react to a stop request
   * meanwhile should not wait for it.
   */
  async start(): Promise<void> {
    await Promise.all(this.#entries.map((e) => this.#startOne(e)));
  }

  async #startOne(entry: Entry): Promise<void> {
    if (this.#stopping) return;
    entry.attempts += 1;
    const log = this.#options.logger.child({ bot: entry.options.name });
    // The bot's channel keeps retrying an unreachable server (one warn line per change of cause);
    // only a permanent cause (unknown host, HTTP 4xx, TLS) fails the start and comes back here.
    const bot = (this.#options.create ?? ((o) => new Bot(o)))({
      ...entry.options,
      logger: entry.options.logger ?? this.#options.logger,
      startTimeoutMs: entry.options.startTimeoutMs ?? Infinity,
    });
    entry.bot = bot;
    try {
      await bot.start();
      entry.running = true;
      entry.lastError = undefined;
      log.info({ attempts: entry.attempts }, 'bot started');
      const sub = bot.channel.state$.subscribe((state) => {
        if (state.status === 'closed' && !this.#stopping && entry.running) {
          entry.running = false;
          sub.unsubscribe();
          log.warn({ reason: state.reason }, 'bot lost its channel; restarting');
          void bot.stop().finally(() => this.#schedule(entry));
        }
      });
    } catch (error) {
      entry.running = false;
      // stop() closed a bot that was still starting: not a failure worth a line.
      if (this.#stopping) return;
      const err = error instanceof Error ? error : new Error(String(error));
      const sameCause = entry.lastError?.message === err.message;
      entry.lastError = err;
      // One line per change of cause (the stack only at debug): a bot retried every minute
      // for a wrong PIN must not fill the journal.
      if (sameCause) log.debug({ err, attempts: entry.attempts }, 'bot failed to start again; will retry');
      else {
        log.warn({ attempts: entry.attempts, code: (err as { code?: unknown }).code, reason: err.message }, 'bot failed to start; will retry');
        log.debug({ err }, 'bot start failure');
      }
      this.#schedule(entry);
    }
  }

  #schedule(entry: Entry): void {
    if (this.#stopping || entry.stopped) return;
    const min = this.#options.retryMinMs ?? 1000;
    const max = this.#options.retryMaxMs ?? 60_000;
    const delay = Math.min(max, min * 2 ** Math.max(0, entry.attempts - 1)) * (0.8 + Math.random() * 0.4);
    entry.timer = setTimeout(() => void this.#startOne(entry), delay);
  }

  /**
   * Stops one bot for good, as an operator asked (the console's stop button): it leaves its room,
   * finalises its recordings and is not restarted. False when the bot is not supervised here.
   */
  async stopBot(bot: Bot): Promise<boolean> {
    const entry = this.#entries.find((e) => e.bot === bot);
    if (!entry) return false;
    entry.stopped = true;
    entry.running = false;
    clearTimeout(entry.timer);
    await bot.stop();
    return true;
  }

  /**
   * Stops every bot gracefully (in parallel), including bots that are still starting or
   * waiting for a retry: their start is abandoned. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#entries.map(async (e) => {
        clearTimeout(e.timer);
        e.running = false;
        await e.bot?.stop();
      }),
    );
  }
}
