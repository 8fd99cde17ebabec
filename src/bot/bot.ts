import { BehaviorSubject, Subject, concat, defer, filter, from, takeUntil, type Observable, type Subscription } from 'rxjs';
import type { Signaling } from '../peer/index.js';
import { Channel, type ChannelState } from '../channel/index.js';
import type { OutgoingFrame, Received, SessionStatus } from '../protocol/index.js';
import { RoomState, type Participant } from '../room/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { BOT_STATUS_KEY, isBot } from './bot-traffic.js';
import { ChatService, type IncomingChat } from './chat.js';
import { CommandRegistry, type PluginCommands } from './commands.js';
import { FaultBudget, type FaultLimit } from './fault-budget.js';
import { guardProcess, inScope, runInScope, type FaultOrigin, type PluginScope } from './isolation.js';
import { refuseStartWhileLoadingModule } from './module-guard.js';
import type { BotMetricsReport, Plugin, PluginContext, Teardown } from './plugin.js';
import { preflightPlugins } from './preflight.js';
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
  /**
   * Extra Status fields: `buddyPicture` (data URL) and `message`. The Status also carries
   * `bot: true` so other bots do not answer this one; `{ bot: false }` turns that off.
   */
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
  /**
   * A plugin with this many faults (uncaught errors in its subscribers, timers, promises or hooks)
   * within the window is disabled: its streams end, its commands go, its stop hooks and teardown
   * run; the bot and the other plugins keep running. @defaultValue `{ faults: 5, windowMs: 60000 }`
   */
  pluginFaultLimit?: FaultLimit;
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
  readonly plugin: Plugin<any>;
  readonly scope: PluginScope;
  readonly logger: Logger;
  readonly budget: FaultBudget;
  /** Ends the plugin's streams when it is disabled. */
  readonly ended$: Subject<void>;
  /** Unregisters the commands it registered. */
  readonly commands: (() => void)[];
  teardown?: Teardown;
  disabled: boolean;
}

interface PluginHook<T> {
  readonly owner: LoadedPlugin;
  readonly hook: () => T;
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
  readonly #stopHooks: PluginHook<void | Promise<void>>[] = [];
  readonly #metricProviders: PluginHook<BotMetricsReport>[] = [];
  readonly #closeHooks: PluginHook<void | Promise<void>>[] = [];
  /** Plugins being disabled (their stop hooks and teardown); `stop()` waits for them. */
  readonly #disabling = new Set<Promise<void>>();
  #releaseGuard?: () => void;
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
    this.chat = new ChatService(
      this.channel,
      { displayName: (id) => this.displayName(id), isBot: (id) => isBot(this.room.get(id)) },
      this.logger.child({ layer: 'chat' }),
    );
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
    const out: BotMetricsReport = {};
    for (const { owner, hook } of this.#metricProviders) {
      let part: BotMetricsReport;
      try {
        part = runInScope(owner.scope, hook);
      } catch (error) {
        owner.scope.report(error, 'hook', { hook: 'metrics' });
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
      this.#earlySignals = undefined; // no plugin drives calls: nothing will ever read them
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
    const logger = this.logger.child({ plugin: plugin.name });
    const loaded: LoadedPlugin = {
      plugin,
      logger,
      scope: { plugin: plugin.name, report: (error, origin, detail) => this.#fault(loaded, error, origin, detail) },
      budget: new FaultBudget(this.options.pluginFaultLimit),
      ended$: new Subject<void>(),
      commands: [],
      disabled: false,
    };
    this.#plugins.push(loaded);
    try {
      const ctx = this.#context(loaded);
      loaded.teardown = await runInScope(loaded.scope, () => plugin.setup(ctx));
      logger.debug('plugin set up');
    } catch (error) {
      this.#fault(loaded, error, 'setup');
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
    await this.#runStopHooks(this.#stopHooks.splice(0));
    await Promise.all(this.#disabling);
    for (const loaded of this.#plugins.splice(0).reverse()) await this.#teardown(loaded);
    for (const hook of this.#closeHooks.splice(0).reverse()) await this.#runHook(hook, 'close');
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
    this.#releaseGuard?.();
  }

  /** Runs stop hooks in parallel, each in its plugin's scope, bounded by `stopTimeoutMs`. */
  async #runStopHooks(hooks: PluginHook<void | Promise<void>>[]): Promise<void> {
    if (hooks.length === 0) return;
    const timeoutMs = this.options.stopTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(hooks.map((hook) => this.#runHook(hook, 'stop'))),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.warn({ timeoutMs }, 'stop hooks did not finish in time; continuing shutdown');
          resolve();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async #runHook({ owner, hook }: PluginHook<void | Promise<void>>, kind: 'stop' | 'close'): Promise<void> {
    try {
      await runInScope(owner.scope, hook);
    } catch (error) {
      this.#fault(owner, error, 'hook', { hook: kind });
    }
  }

  async #teardown(loaded: LoadedPlugin): Promise<void> {
    loaded.ended$.next();
    loaded.ended$.complete();
    for (const off of loaded.commands.splice(0)) off();
    try {
      await runInScope(loaded.scope, () => runTeardown(loaded.teardown));
    } catch (error) {
      this.#fault(loaded, error, 'hook', { hook: 'teardown' });
    }
  }

  /**
   * A fault in a plugin's code: counted (for `/metrics`) and logged with the plugin's name. A
   * failed setup disables the plugin at once; other faults disable it when they exceed
   * `pluginFaultLimit`. A failed command is answered to its sender and never disables a plugin
   * (any user could trigger it).
   */
  #fault(loaded: LoadedPlugin, error: unknown, origin: FaultOrigin, detail: Record<string, unknown> = {}): void {
    const name = loaded.plugin.name;
    const count = (this.pluginErrors.get(name) ?? 0) + 1;
    this.pluginErrors.set(name, count);
    const { logger } = loaded;
    if (loaded.disabled) {
      logger.debug({ err: error, origin, ...detail }, 'fault in a disabled plugin');
      return;
    }
    if (origin === 'command') {
      logger.warn({ err: error, ...detail }, 'command failed; the sender got the error');
      return;
    }
    if (origin === 'setup') {
      logger.error({ err: error }, 'plugin setup failed; plugin disabled');
      this.#disable(loaded);
      return;
    }
    logger.error({ err: error, origin, ...detail }, 'plugin fault (isolated; the bot and the other plugins keep running)');
    const exhausted = loaded.budget.record();
    const running = this.state.status === 'running' || this.state.status === 'starting';
    if (exhausted && running) {
      const { faults, windowMs } = loaded.budget.limit;
      logger.error({ faults, windowMs }, `plugin disabled after ${faults} faults in ${Math.round(windowMs / 1000)} s`);
      this.#disable(loaded);
    }
  }

  /** Takes a plugin out: ends its streams and commands, runs its stop hooks (finalising its work), then its teardown. */
  #disable(loaded: LoadedPlugin): void {
    if (loaded.disabled) return;
    loaded.disabled = true;
    const index = this.#plugins.indexOf(loaded);
    if (index >= 0) this.#plugins.splice(index, 1);
    const own = <T>(hooks: PluginHook<T>[]) => hooks.filter((h) => h.owner === loaded);
    const stopHooks = own(this.#stopHooks);
    for (const hook of stopHooks) this.#stopHooks.splice(this.#stopHooks.indexOf(hook), 1);
    const done = (async () => {
      loaded.ended$.next();
      await this.#runStopHooks(stopHooks);
      await this.#teardown(loaded);
    })();
    this.#disabling.add(done);
    void done.finally(() => this.#disabling.delete(done));
  }

  #commandsFor(loaded: LoadedPlugin): PluginCommands {
    const registry = this.commands;
    return {
      register: (command) => {
        const off = registry.register(command, loaded.scope);
        loaded.commands.push(off);
        return off;
      },
      get: (name) => registry.get(name),
      list: () => registry.list(),
      run: (command, args, message) => registry.run(command, args, message),
    };
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
      signaling: this.#signaling(),
      updateStatus: (patch) => {
        this.#statusPatch = { ...this.#statusPatch, ...patch };
        this.channel.setStatus(this.status);
      },
      commands: this.#commandsFor(loaded),
      services: this.services,
      displayName: (id: string) => this.displayName(id),
      onMetrics: (hook) => {
        this.#metricProviders.push({ owner: loaded, hook });
      },
      onClose: (hook) => {
        this.#closeHooks.push({ owner: loaded, hook });
      },
      onStop: (hook) => {
        this.#stopHooks.push({ owner: loaded, hook });
      },
    };
  }
}

async function runTeardown(teardown: Teardown): Promise<void> {
  if (!teardown) return;
  if (typeof teardown === 'function') await teardown();
  else teardown.unsubscribe();
}
