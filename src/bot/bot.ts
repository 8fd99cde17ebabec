import { BehaviorSubject, Subject, concat, defer, from, takeUntil, type Observable, type Subscription } from 'rxjs';
import type { Signaling } from '../peer/index.js';
import { Channel, type ChannelState } from '../channel/index.js';
import type { OutgoingFrame, Received, SessionStatus } from '../protocol/index.js';
import { RoomState, type Participant } from '../room/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ChatService, type IncomingChat } from './chat.js';
import { CommandRegistry } from './commands.js';
import { inScope, runInScope, type PluginScope } from './isolation.js';
import { refuseStartWhileLoadingModule } from './module-guard.js';
import type { BotMetricsReport, Plugin, PluginContext, Teardown } from './plugin.js';
import { ServiceRegistry } from './services.js';

/** Options of a {@link Bot}. */
export interface BotOptions {
  /** WebSocket URL of the channeling server, e.g. `ws://127.0.0.1:8080/ws`. */
  server: string;
  /** Room name to join (`''` is the server's default room). */
  room: string;
  /** Room PIN, when the room is protected. Never logged. */
  pin?: string;
  /** Display name published in the bot's Status. */
  name: string;
  /** Extra Status fields: `buddyPicture` (data URL) and `message`. */
  status?: { buddyPicture?: string | null; message?: string | null; [key: string]: unknown };
  /** Plugins, set up in order after joining and torn down in reverse order. */
  plugins?: Plugin<any>[];
  /** Per-plugin configuration, keyed by plugin name; handed to the plugin as `ctx.config`. */
  pluginConfig?: Record<string, unknown>;
  /** Logger. @defaultValue a silent logger */
  logger?: Logger;
  /** User agent sent in Hello. @defaultValue `'spreed-bot'` */
  ua?: string;
  /** How long `stop()` waits for plugins' stop hooks (finalising recordings, transfers). @defaultValue 30000 */
  stopTimeoutMs?: number;
  /**
   * How long `start()` retries the first connection before it rejects with ChannelError
   * `connect_failed`, whose message names the URL and the last cause (e.g. a refused port). An
   * unknown host, an HTTP 4xx on the WebSocket upgrade or a TLS failure rejects at once.
   * `Infinity` retries until the server answers (the service supervisor's choice: it logs each
   * change of cause once and retries permanent ones itself). @defaultValue 10000
   */
  startTimeoutMs?: number;
  /** A ready channel to use instead of creating one (tests, custom transports). */
  channel?: Channel;
}

/** Lifecycle state of a bot. */
export type BotState =
  | { status: 'idle' }
  | { status: 'starting' }
  | { status: 'running' }
  | { status: 'stopping' }
  | { status: 'stopped' }
  | { status: 'failed'; error: Error };

const MAX_EARLY_SIGNALS = 500;

interface LoadedPlugin {
  plugin: Plugin<any>;
  scope: PluginScope;
  teardown?: Teardown;
}

/**
 * A bot: one channel, its room state, and its plugins. Several bots in one process are
 * fully independent.
 *
 * @example
 * ```ts
 * const bot = new Bot({ server: 'ws://127.0.0.1:8080/ws', room: 'lobby', name: 'Echo', plugins: [echo] });
 * await bot.start();
 * // …
 * await bot.stop();
 * ```
 */
export class Bot {
  readonly channel: Channel;
  readonly room: RoomState;
  readonly chat: ChatService;
  readonly commands = new CommandRegistry();
  readonly services = new ServiceRegistry();
  readonly logger: Logger;
  readonly options: Readonly<BotOptions>;
  /** Errors thrown by plugins, by plugin name (for metrics). */
  readonly pluginErrors = new Map<string, number>();
  readonly #state = new BehaviorSubject<BotState>({ status: 'idle' });
  readonly #stopped = new Subject<void>();
  readonly #plugins: LoadedPlugin[] = [];
  readonly #stopHooks: { plugin: string; hook: () => void | Promise<void> }[] = [];
  readonly #metricProviders: (() => BotMetricsReport)[] = [];
  readonly #closeHooks: { plugin: string; hook: () => void | Promise<void> }[] = [];
  #stopping?: Promise<void>;
  #statusPatch: Record<string, unknown> = {};
  /** The current room's Welcome and the server's latest Conference doc, replayed to late subscribers. */
  #roomReplay: { welcome?: Received<'Welcome'>; conference?: Received<'Conference'> } = {};
  /**
   * Call signalling (Offer/Answer/Candidate/Bye) that arrived after joining but before any
   * document-driven layer subscribed (peers offer as soon as the server's Conference doc names
   * us, often before the plugins are set up). Handed to the first subscriber, then dropped.
   */
  #earlySignals: Received[] | undefined = [];
  readonly #replaySubscription: Subscription;

  constructor(options: BotOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger).child({ bot: options.name });
    this.channel =
      options.channel ?? new Channel({ url: options.server, logger: this.logger.child({ layer: 'channel' }), ua: options.ua ?? 'spreed-bot' });
    this.room = new RoomState(this.channel);
    this.chat = new ChatService(this.channel, (id) => this.displayName(id), this.logger.child({ layer: 'chat' }));
    this.#replaySubscription = this.channel.documents$.subscribe((r) => {
      if (r.kind === 'Welcome') this.#roomReplay = { welcome: r };
      else if (r.kind === 'Conference' && !r.from) this.#roomReplay.conference = r;
      else if (this.#earlySignals && (r.kind === 'Offer' || r.kind === 'Answer' || r.kind === 'Candidate' || r.kind === 'Bye')) {
        if (this.#earlySignals.length < MAX_EARLY_SIGNALS) this.#earlySignals.push(r);
      }
    });
  }

  /**
   * The channel as layers driven by documents see it: the room's Welcome and the server's latest
   * Conference document (trimmed to who is still here) are replayed first, so a call manager
   * created after joining still learns it is in a Conference-type room and whom to connect to.
   */
  #signaling(): Signaling {
    const channel = this.channel;
    const replay = (): Received[] => {
      const { welcome, conference } = this.#roomReplay;
      const out: Received[] = welcome ? [welcome] : [];
      if (conference) {
        const present = (id: string) => id === channel.id || this.room.get(id) !== undefined;
        out.push({ ...conference, doc: { ...conference.doc, Conference: conference.doc.Conference.filter(present) } });
      }
      // Only the first subscriber (the call manager) gets the early signalling.
      if (this.#earlySignals) out.push(...this.#earlySignals.splice(0));
      this.#earlySignals = undefined;
      return out;
    };
    return {
      get id() {
        return channel.id;
      },
      documents$: concat(defer(() => from(replay())), channel.documents$),
      send: (frame) => channel.send(frame),
      iceServers: () => channel.iceServers(),
    };
  }

  /** Lifecycle state. */
  get state$(): Observable<BotState> {
    return this.#state.asObservable();
  }

  /** Current lifecycle state. */
  get state(): BotState {
    return this.#state.value;
  }

  /** The Status object the bot publishes: `displayName` plus the configured extras. */
  get status(): SessionStatus {
    const extra = this.options.status ?? {};
    return { displayName: this.options.name, buddyPicture: extra.buddyPicture ?? null, message: extra.message ?? null, ...extra, ...this.#statusPatch };
  }

  /** Sums what the plugins report for metrics (calls, recordings, transfers). */
  metricsReport(): BotMetricsReport {
    const out: BotMetricsReport = {};
    for (const provider of this.#metricProviders) {
      let part: BotMetricsReport;
      try {
        part = provider();
      } catch {
        continue;
      }
      out.callsActive = (out.callsActive ?? 0) + (part.callsActive ?? 0);
      out.recordingsActive = (out.recordingsActive ?? 0) + (part.recordingsActive ?? 0);
      out.recordingBytesWritten = (out.recordingBytesWritten ?? 0) + (part.recordingBytesWritten ?? 0);
      out.recordingPacketsDropped = (out.recordingPacketsDropped ?? 0) + (part.recordingPacketsDropped ?? 0);
      if (part.rtpStreams) (out.rtpStreams ??= []).push(...part.rtpStreams);
      if (part.fileTransfers) (out.fileTransfers ??= []).push(...part.fileTransfers);
    }
    return out;
  }

  /** Display name of a session id. */
  displayName(id: string): string {
    if (id === this.channel.id) return this.options.name;
    return this.room.displayName(id);
  }

  /**
   * Connects, publishes the Status, joins the room and sets up the plugins. Rejects with the
   * server's error (e.g. `invalid_credentials`) when the room cannot be joined.
   */
  async start(): Promise<void> {
    refuseStartWhileLoadingModule(); // `spreed-bot run` is importing this bot's module: no connection
    if (this.state.status !== 'idle') throw new Error(`bot '${this.options.name}' cannot start from state '${this.state.status}'`);
    this.#state.next({ status: 'starting' });
    try {
      await this.channel.connect({ timeoutMs: this.options.startTimeoutMs ?? 10_000, failFast: true });
      // Status before Hello is embedded in our Joined entry; the channel re-sends it after reconnects.
      this.channel.setStatus(this.status);
      await this.channel.hello({ room: this.options.room, pin: this.options.pin, ua: this.options.ua ?? 'spreed-bot' });
      this.logger.info({ room: this.options.room, id: this.channel.id }, 'joined room');
      for (const plugin of this.options.plugins ?? []) await this.use(plugin);
      this.#earlySignals = undefined; // no plugin drives calls: nothing will ever read them
      this.#state.next({ status: 'running' });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.#state.next({ status: 'failed', error: err });
      await this.#shutdown();
      throw err;
    }
  }

  /** Adds and sets up a plugin on a running (or starting) bot. A failing setup is logged and skipped. */
  async use(plugin: Plugin<any>): Promise<void> {
    const logger = this.logger.child({ plugin: plugin.name });
    const scope: PluginScope = {
      plugin: plugin.name,
      report: (error) => this.#reportPluginError(plugin.name, logger, error),
    };
    const loaded: LoadedPlugin = { plugin, scope };
    try {
      const ctx = this.#context(plugin, scope, logger);
      loaded.teardown = await runInScope(scope, () => plugin.setup(ctx));
      this.#plugins.push(loaded);
      logger.debug('plugin set up');
    } catch (error) {
      this.#reportPluginError(plugin.name, logger, error, 'plugin setup failed; plugin disabled');
    }
  }

  /**
   * Stops gracefully: runs the plugins' stop hooks (finalising recordings and transfers, bounded
   * by `stopTimeoutMs`), tears plugins down in reverse order, leaves the room and closes the
   * channel. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = (async () => {
        if (this.state.status !== 'failed') this.#state.next({ status: 'stopping' });
        await this.#shutdown();
        if (this.state.status !== 'failed') this.#state.next({ status: 'stopped' });
        this.#state.complete();
      })();
    }
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    const timeoutMs = this.options.stopTimeoutMs ?? 30_000;
    const hooks = this.#stopHooks.splice(0).map(async ({ plugin, hook }) => {
      try {
        await hook();
      } catch (error) {
        this.logger.error({ err: error, plugin }, 'stop hook failed');
      }
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(hooks),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.warn({ timeoutMs }, 'stop hooks did not finish in time; continuing shutdown');
          resolve();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const loaded of this.#plugins.splice(0).reverse()) {
      try {
        await runInScope(loaded.scope, () => runTeardown(loaded.teardown));
      } catch (error) {
        this.logger.error({ err: error, plugin: loaded.plugin.name }, 'plugin teardown failed');
      }
    }
    for (const { plugin, hook } of this.#closeHooks.splice(0).reverse()) {
      try {
        await hook();
      } catch (error) {
        this.logger.error({ err: error, plugin }, 'close hook failed');
      }
    }
    this.#stopped.next();
    this.#stopped.complete();
    this.chat.close();
    this.#replaySubscription.unsubscribe();
    try {
      if (this.channel.state.status === 'joined') this.channel.leave();
    } catch {
      // leaving is best effort: the socket may already be gone
    }
    this.room.close();
    await this.channel.close();
  }

  #reportPluginError(name: string, logger: Logger, error: unknown, message = 'plugin error (isolated; bot keeps running)'): void {
    const count = (this.pluginErrors.get(name) ?? 0) + 1;
    this.pluginErrors.set(name, count);
    if (count === 1) logger.error({ err: error }, message);
    else logger.debug({ err: error, count }, 'plugin error (repeated)');
  }

  #context(plugin: Plugin<any>, scope: PluginScope, logger: Logger): PluginContext<any> {
    const bot = this;
    const scoped = <T>(source: Observable<T>): Observable<T> => source.pipe(takeUntil(this.#stopped), inScope<T>(scope));
    const chatMessages$: Observable<IncomingChat> = scoped(this.chat.messages$);
    return {
      bot: {
        get id() {
          return bot.channel.id ?? '';
        },
        name: this.options.name,
        room: this.options.room,
      },
      config: this.options.pluginConfig?.[plugin.name] ?? {},
      logger,
      documents$: scoped<Received>(this.channel.documents$),
      chat$: chatMessages$,
      get users(): ReadonlyMap<string, Participant> {
        return bot.room.users;
      },
      users$: scoped(this.room.users$),
      joined$: scoped(this.room.joined$),
      left$: scoped(this.room.left$),
      state$: scoped<ChannelState>(this.channel.state$),
      send: (frame: OutgoingFrame) => this.channel.send(frame),
      request: (frame: OutgoingFrame, options?: { timeoutMs?: number }) => this.channel.request(frame, options),
      chat: {
        send: (text, options) => this.chat.send(text, options),
        reply: (message, text) => this.chat.reply(message, text),
        typing: (to, state) => this.chat.typing(to, state),
        delivery$: scoped(this.chat.delivery$),
        receive: (received) => this.chat.receive(received),
      },
      signaling: this.#signaling(),
      updateStatus: (patch) => {
        this.#statusPatch = { ...this.#statusPatch, ...patch };
        this.channel.setStatus(this.status);
      },
      commands: this.commands,
      services: this.services,
      displayName: (id: string) => this.displayName(id),
      onMetrics: (provider) => {
        this.#metricProviders.push(provider);
      },
      onClose: (hook) => {
        this.#closeHooks.push({ plugin: plugin.name, hook });
      },
      onStop: (hook) => {
        this.#stopHooks.push({ plugin: plugin.name, hook });
      },
    };
  }
}

async function runTeardown(teardown: Teardown): Promise<void> {
  if (!teardown) return;
  if (typeof teardown === 'function') await teardown();
  else teardown.unsubscribe();
}
