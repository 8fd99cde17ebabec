import { Counter, Gauge, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Bot } from '../bot/bot.js';
import type { BotMetricsReport } from '../bot/plugin.js';

export type { BotMetricsReport };

const STATES = ['connecting', 'connected', 'joined', 'reconnecting', 'closed'] as const;

/**
 * Prometheus metrics for the bots of one process: connection state, reconnects, documents in
 * and out by type, calls, recordings, bytes written, RTP packets received/lost per stream, file
 * transfers and bytes, plugin errors.
 */
export class BotMetrics {
  readonly registry = new Registry();
  readonly #bots = new Set<Bot>();
  readonly #subscriptions = new Map<Bot, Subscription>();
  readonly #reconnects: Counter<'bot'>;
  readonly #docsIn: Counter<'bot' | 'type'>;
  readonly #docsOut: Counter<'bot' | 'type'>;

  constructor() {
    const registry = this.registry;
    const bots = this.#bots;
    this.#reconnects = new Counter({ name: 'spreed_bot_reconnects_total', help: 'Channel reconnect attempts', labelNames: ['bot'], registers: [registry] });
    this.#docsIn = new Counter({ name: 'spreed_bot_documents_in_total', help: 'Documents received, by type', labelNames: ['bot', 'type'], registers: [registry] });
    this.#docsOut = new Counter({ name: 'spreed_bot_documents_out_total', help: 'Frames sent, by type', labelNames: ['bot', 'type'], registers: [registry] });
    const reports = () => [...bots].map((bot) => ({ bot, report: bot.metricsReport() }));
    new Gauge({
      name: 'spreed_bot_connection_state',
      help: 'Channel state per bot (1 for the current state)',
      labelNames: ['bot', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const bot of bots) for (const s of STATES) this.set({ bot: bot.options.name, state: s }, bot.channel.state.status === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'spreed_bot_up',
      help: '1 when the bot is running and joined',
      labelNames: ['bot'],
      registers: [registry],
      collect() {
        this.reset();
        for (const bot of bots) this.set({ bot: bot.options.name }, bot.state.status === 'running' && bot.channel.state.status === 'joined' ? 1 : 0);
      },
    });
    const simple = (name: string, help: string, pick: (r: BotMetricsReport) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['bot'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { bot, report } of reports()) this.set({ bot: bot.options.name }, pick(report) ?? 0);
        },
      });
    simple('spreed_bot_calls_active', 'Calls (peer connections with media) currently active', (r) => r.callsActive);
    simple('spreed_bot_recordings_active', 'Participant recordings currently running', (r) => r.recordingsActive);
    simple('spreed_bot_recording_bytes_written', 'Bytes written by the recorder', (r) => r.recordingBytesWritten);
    new Gauge({
      name: 'spreed_bot_rtp_packets_received',
      help: 'RTP packets received per stream',
      labelNames: ['bot', 'stream'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { bot, report } of reports())
          for (const s of report.rtpStreams ?? []) this.set({ bot: bot.options.name, stream: s.stream }, s.packetsReceived);
      },
    });
    new Gauge({
      name: 'spreed_bot_rtp_packets_lost',
      help: 'RTP packets lost per stream',
      labelNames: ['bot', 'stream'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { bot, report } of reports())
          for (const s of report.rtpStreams ?? []) this.set({ bot: bot.options.name, stream: s.stream }, s.packetsLost);
      },
    });
    new Gauge({
      name: 'spreed_bot_file_transfers',
      help: 'File transfers done, by direction',
      labelNames: ['bot', 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { bot, report } of reports())
          for (const f of report.fileTransfers ?? []) this.set({ bot: bot.options.name, direction: f.direction }, f.count);
      },
    });
    new Gauge({
      name: 'spreed_bot_file_bytes',
      help: 'File bytes transferred, by direction',
      labelNames: ['bot', 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { bot, report } of reports())
          for (const f of report.fileTransfers ?? []) this.set({ bot: bot.options.name, direction: f.direction }, f.bytes);
      },
    });
    new Gauge({
      name: 'spreed_bot_plugin_errors',
      help: 'Errors thrown by plugins (isolated)',
      labelNames: ['bot', 'plugin'],
      registers: [registry],
      collect() {
        this.reset();
        for (const bot of bots) for (const [plugin, n] of bot.pluginErrors) this.set({ bot: bot.options.name, plugin }, n);
      },
    });
  }

  /** Starts tracking a bot (call before `bot.start()` to count everything). */
  track(bot: Bot): void {
    if (this.#bots.has(bot)) return;
    this.#bots.add(bot);
    const name = bot.options.name;
    const sub = bot.channel.documents$.subscribe((r) => this.#docsIn.inc({ bot: name, type: r.kind }));
    sub.add(bot.channel.sent$.subscribe((type) => this.#docsOut.inc({ bot: name, type })));
    sub.add(
      bot.channel.state$.subscribe((s) => {
        if (s.status === 'reconnecting') this.#reconnects.inc({ bot: name });
      }),
    );
    // A stopped bot (e.g. replaced by the supervisor after a failure) stops counting.
    sub.add(bot.state$.subscribe({ complete: () => queueMicrotask(() => this.untrack(bot)) }));
    this.#subscriptions.set(bot, sub);
  }

  /** Stops tracking a bot. */
  untrack(bot: Bot): void {
    this.#subscriptions.get(bot)?.unsubscribe();
    this.#subscriptions.delete(bot);
    this.#bots.delete(bot);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
