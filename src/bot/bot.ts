import { BehaviorSubject, Subject, filter, takeUntil, type Observable } from 'rxjs';
import { Channel, type ChannelState } from '../channel/index.js';
import type { OutgoingFrame, Received, SessionStatus } from '../protocol/index.js';
import { RoomState, type Participant } from '../room/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { BotOptions, BotState } from './bot-options.js';
import { BOT_STATUS_KEY, isBot } from './bot-traffic.js';
import { ChatService, type IncomingChat } from './chat.js';
import { CommandRegistry } from './commands.js';
import { guardProcess, inScope } from './isolation.js';
import { refuseStartWhileLoadingModule } from './module-guard.js';
import type { BotMetricsReport, Plugin, PluginContext } from './plugin.js';
import { PluginHost, type LoadedPlugin } from './plugin-host.js';
import { preflightPlugins } from './preflight.js';
import { ServiceRegistry } from './services.js';
import { SignalingReplay } from './signaling-replay.js';

export type { BotOptions, BotState } from './bot-options.js';

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
  readonly pluginErrors: Map<string, number>;
  readonly #state = new BehaviorSubject<BotState>({ status: 'idle' });
  readonly #stopped = new Subject<void>();
  readonly #plugins: PluginHost;
  readonly #replay: SignalingReplay;
  #releaseGuard?: () => void;
  #stopping?: Promise<void>;
  #statusPatch: Record<string, unknown> = {};

  constructor(options: BotOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger).child({ bot: options.name });
    this.channel =
      options.channel ?? new Channel({ url: options.server, logger: this.logger.child({ layer: 'channel' }), ua: options.ua ?? 'spreed-bot' });
    this.room = new RoomState(this.channel);
    this.chat = new ChatService(
      this.channel,
      { displayName: (id) => this.displayName(id), isBot: (id) => isBot(this.room.get(id)) },
      this.logger.child({ layer: 'chat' }),
    );
    this.#replay = new SignalingReplay(this.channel, this.room);
    this.#plugins = new PluginHost({
      logger: this.logger,
      commands: this.commands,
      isRunning: () => this.state.status === 'running' || this.state.status === 'starting',
      stopTimeoutMs: options.stopTimeoutMs,
      faultLimit: options.pluginFaultLimit,
    });
    this.pluginErrors = this.#plugins.errors;
  }

  /** Lifecycle state. */
  get state$(): Observable<BotState> {
    return this.#state.asObservable();
  }

  /** Current lifecycle state. */
  get state(): BotState {
    return this.#state.value;
  }

  /** The Status object the bot publishes: `displayName`, the bot marker and the configured extras. */
  get status(): SessionStatus {
    const extra = this.options.status ?? {};
    return {
      displayName: this.options.name,
      buddyPicture: extra.buddyPicture ?? null,
      message: extra.message ?? null,
      [BOT_STATUS_KEY]: true,
      ...extra,
      ...this.#statusPatch,
    };
  }

  /** Sums what the plugins report for metrics (calls, recordings, transfers). */
  metricsReport(): BotMetricsReport {
    return this.#plugins.metricsReport();
  }

  /** Display name of a session id. */
  displayName(id: string): string {
    if (id === this.channel.id) return this.options.name;
    return this.room.displayName(id);
  }

  /**
   * Checks the plugins (folders they need), connects, publishes the Status, joins the room and
   * sets up the plugins. Rejects with a `ConfigError` when a plugin's check fails (before
   * connecting), with ChannelError `connect_failed` naming the URL and the cause when the server
   * cannot be reached (see `startTimeoutMs`), or with the server's error (e.g.
   * `invalid_credentials`) when the room cannot be joined. While a bot runs, faults in plugin code are caught process-wide and attributed to the
   * plugin (see `pluginFaultLimit`).
   */
  async start(): Promise<void> {
    refuseStartWhileLoadingModule(); // `spreed-bot run` is importing this bot's module: no connection
    if (this.state.status !== 'idle') throw new Error(`bot '${this.options.name}' cannot start from state '${this.state.status}'`);
    this.#state.next({ status: 'starting' });
    // The process-wide handlers log what no plugin owns with the root logger (console without one).
    this.#releaseGuard = guardProcess(this.options.logger);
    try {
      await preflightPlugins(this.options.plugins ?? []);
      await this.channel.connect({ timeoutMs: this.options.startTimeoutMs ?? 10_000, failFast: true });
      // Status before Hello is embedded in our Joined entry; the channel re-sends it after reconnects.
      this.channel.setStatus(this.status);
      await this.channel.hello({ room: this.options.room, pin: this.options.pin, ua: this.options.ua ?? 'spreed-bot' });
      this.logger.info({ room: this.options.room, id: this.channel.id }, 'joined room');
      for (const plugin of this.options.plugins ?? []) await this.use(plugin);
      this.#replay.dropEarlySignals(); // no plugin drives calls: nothing will ever read them
      this.#state.next({ status: 'running' });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.#state.next({ status: 'failed', error: err });
      await this.#shutdown();
      throw err;
    }
  }

  /** Adds and sets up a plugin on a running (or starting) bot. A failing setup is logged and the plugin disabled. */
  async use(plugin: Plugin<any>): Promise<void> {
    await this.#plugins.load(plugin, (loaded) => plugin.setup(this.#context(loaded)));
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
    await this.#plugins.shutdown();
    this.#stopped.next();
    this.#stopped.complete();
    this.chat.close();
    this.#replay.close();
    try {
      if (this.channel.state.status === 'joined') this.channel.leave();
    } catch {
      // leaving is best effort: the socket may already be gone
    }
    this.room.close();
    await this.channel.close();
    this.#releaseGuard?.();
  }

  #context(loaded: LoadedPlugin): PluginContext<any> {
    const bot = this;
    const { plugin, scope, logger } = loaded;
    const scoped = <T>(source: Observable<T>): Observable<T> =>
      source.pipe(takeUntil(this.#stopped), takeUntil(loaded.ended$), inScope<T>(scope));
    const allChat$: Observable<IncomingChat> = scoped(this.chat.messages$);
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
      chat$: allChat$.pipe(filter((message) => !message.fromBot)),
      allChat$,
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
      signaling: this.#replay.signaling(),
      updateStatus: (patch) => {
        this.#statusPatch = { ...this.#statusPatch, ...patch };
        this.channel.setStatus(this.status);
      },
      commands: this.#plugins.commandsFor(loaded),
      services: this.services,
      displayName: (id: string) => this.displayName(id),
      onMetrics: (hook) => this.#plugins.onMetrics(loaded, hook),
      onClose: (hook) => this.#plugins.onClose(loaded, hook),
      onStop: (hook) => this.#plugins.onStop(loaded, hook),
    };
  }
}
