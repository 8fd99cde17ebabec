import { Counter, Gauge, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Bot } from '../bot/bot.js';
import type { BotMetricsReport } from '../bot/plugin.js';

export type { BotMetricsReport };

const STATES = ['connecting', 'connected', 'joined', 'reconnecting', 'closed'] as const;

/** Distinct participant names one bot may turn into RTP labels; later names are counted as `other`. */
export const MAX_PARTICIPANT_LABELS = 20;
/** Longest participant name used as a label value. */
export const MAX_PARTICIPANT_LABEL_LENGTH = 40;

type TotalKey = 'recordingBytesWritten' | 'recordingPacketsDropped';
const TOTALS: TotalKey[] = ['recordingBytesWritten', 'recordingPacketsDropped'];

/**
 * Prometheus metrics for the bots of one process: connection state, reconnects, documents in
 * and out by type, calls, participants being recorded, bytes written (a counter that survives
 * recordings and bot restarts), RTP packets received/lost per participant (display names, at most
 * {@link MAX_PARTICIPANT_LABELS} per bot, then `other`), file transfers and bytes, plugin errors.
 */
export class BotMetrics {
  readonly registry = new Registry();
  readonly #bots = new Set<Bot>();
  /** Totals of bots that stopped, by bot name, so a restarted bot's counters continue. */
  readonly #retired = new Map<string, Record<TotalKey, number>>();
  /** Participant names admitted as label values, by bot name. */
  readonly #participantLabels = new Map<string, Set<string>>();
  readonly #subscriptions = new Map<Bot, Subscription>();
  readonly #reconnects: Counter<'bot'>;
  readonly #docsIn: Counter<'bot' | 'type'>;
  readonly #docsOut: Counter<'bot' | 'type'>;

  /** The plugins' figures for the scrape in progress (one ask per scrape, not per gauge). */
  #scrapeReports: { name: string; bot: Bot; report: BotMetricsReport }[] | undefined;

  constructor() {
    const registry = this.registry;
    const bots = this.#bots;
    this.#reconnects = new Counter({ name: 'spreed_bot_reconnects_total', help: 'Channel reconnect attempts', labelNames: ['bot'], registers: [registry] });
    this.#docsIn = new Counter({ name: 'spreed_bot_documents_in_total', help: 'Documents received, by type', labelNames: ['bot', 'type'], registers: [registry] });
    this.#docsOut = new Counter({ name: 'spreed_bot_documents_out_total', help: 'Frames sent, by type', labelNames: ['bot', 'type'], registers: [registry] });
    // One scrape reads several gauges: ask the plugins once per scrape, not once per gauge.
    // text() clears it before every scrape, so two scrapes never share figures.
    const reports = () => {
      this.#scrapeReports ??= [...bots].map((bot) => ({ name: bot.options.name, bot, report: bot.metricsReport() }));
      return this.#scrapeReports;
    };
    /** A gauge computed at scrape time from rows of `[labels, value]`. */
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], rows: () => [Record<L, string>, number][]) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const [labels, value] of rows()) this.set(labels as Partial<Record<L, string>>, value);
        },
      });
    const perBot = (name: string, help: string, pick: (r: BotMetricsReport) => number | undefined) =>
      gauge(name, help, ['bot'], () => reports().map(({ name: bot, report }) => [{ bot }, pick(report) ?? 0]));

    gauge('spreed_bot_connection_state', 'Channel state per bot (1 for the current state)', ['bot', 'state'], () =>
      [...bots].flatMap((b) => STATES.map((state): [Record<'bot' | 'state', string>, number] => [{ bot: b.options.name, state }, b.channel.state.status === state ? 1 : 0])),
    );
    gauge('spreed_bot_up', '1 when the bot is running and joined', ['bot'], () =>
      [...bots].map((b) => [{ bot: b.options.name }, b.state.status === 'running' && b.channel.state.status === 'joined' ? 1 : 0]),
    );
    perBot('spreed_bot_calls_active', 'Calls (peer connections with media) currently active', (r) => r.callsActive);
    perBot('spreed_bot_recordings_active', 'Participants being recorded now', (r) => r.recordingsActive);
    /** A counter computed at scrape time: what stopped bots of that name reported, plus the live bot's total. */
    const total = (name: string, help: string, key: TotalKey) =>
      new Counter({
        name,
        help,
        labelNames: ['bot'],
        registers: [registry],
        collect: () => {
          const counter = registry.getSingleMetric(name) as Counter<'bot'>;
          counter.reset();
          const sums = new Map<string, number>();
          for (const [bot, retired] of this.#retired) sums.set(bot, retired[key]);
          for (const { name: bot, report } of reports()) sums.set(bot, (sums.get(bot) ?? 0) + (report[key] ?? 0));
          for (const [bot, value] of sums) counter.inc({ bot }, value);
        },
      });
    total('spreed_bot_recording_bytes_written_total', 'Bytes the recorder wrote, over all recordings', 'recordingBytesWritten');
    total('spreed_bot_recording_packets_dropped_total', 'RTP packets dropped because an ffmpeg stopped reading (stuck disk)', 'recordingPacketsDropped');
    const streams = (pick: (s: NonNullable<BotMetricsReport['rtpStreams']>[number]) => number) => () => {
      const sums = new Map<string, [Record<'bot' | 'participant' | 'kind', string>, number]>();
      for (const { name: bot, report } of reports()) {
        for (const s of report.rtpStreams ?? []) {
          const labels = { bot, participant: this.#participantLabel(bot, s.participant), kind: s.kind };
          const key = JSON.stringify(labels);
          sums.set(key, [labels, (sums.get(key)?.[1] ?? 0) + pick(s)]);
        }
      }
      return [...sums.values()];
    };
    const rtpLabels: ('bot' | 'participant' | 'kind')[] = ['bot', 'participant', 'kind'];
    gauge('spreed_bot_rtp_packets_received', 'RTP packets received per live stream, by participant display name', rtpLabels, streams((s) => s.packetsReceived));
    gauge('spreed_bot_rtp_packets_lost', 'RTP packets lost per live stream, by participant display name', rtpLabels, streams((s) => s.packetsLost));
    const transfers = (pick: (f: NonNullable<BotMetricsReport['fileTransfers']>[number]) => number) => () =>
      reports().flatMap(({ name: bot, report }) => (report.fileTransfers ?? []).map((f): [Record<'bot' | 'direction', string>, number] => [{ bot, direction: f.direction }, pick(f)]));
    gauge('spreed_bot_file_transfers', 'File transfers done, by direction', ['bot', 'direction'], transfers((f) => f.count));
    gauge('spreed_bot_file_bytes', 'File bytes transferred, by direction', ['bot', 'direction'], transfers((f) => f.bytes));
    gauge('spreed_bot_plugin_errors', 'Errors thrown by plugins (isolated)', ['bot', 'plugin'], () =>
      [...bots].flatMap((b) => [...b.pluginErrors].map(([plugin, n]): [Record<'bot' | 'plugin', string>, number] => [{ bot: b.options.name, plugin }, n])),
    );
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

  /** Stops tracking a bot; its totals carry over to the next bot of the same name. */
  untrack(bot: Bot): void {
    if (!this.#bots.has(bot)) return;
    this.#subscriptions.get(bot)?.unsubscribe();
    this.#subscriptions.delete(bot);
    this.#bots.delete(bot);
    const report = bot.metricsReport();
    const retired = this.#retired.get(bot.options.name) ?? { recordingBytesWritten: 0, recordingPacketsDropped: 0 };
    for (const key of TOTALS) retired[key] += report[key] ?? 0;
    this.#retired.set(bot.options.name, retired);
  }

  /** The label value for a participant: its name, shortened; `other` once a bot has used up its names. */
  #participantLabel(bot: string, participant: string): string {
    const name = participant.slice(0, MAX_PARTICIPANT_LABEL_LENGTH);
    let admitted = this.#participantLabels.get(bot);
    if (!admitted) this.#participantLabels.set(bot, (admitted = new Set()));
    if (admitted.has(name)) return name;
    if (admitted.size >= MAX_PARTICIPANT_LABELS) return 'other';
    admitted.add(name);
    return name;
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    this.#scrapeReports = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.#scrapeReports = undefined;
    }
  }
}
