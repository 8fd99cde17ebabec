import { Subject } from 'rxjs';
import type { Logger } from '../util/logger.js';
import type { CommandRegistry, PluginCommands } from './commands.js';
import { FaultBudget, type FaultLimit } from './fault-budget.js';
import { runInScope, type FaultOrigin, type PluginScope } from './isolation.js';
import type { BotMetricsReport, Plugin, Teardown } from './plugin.js';

/** A plugin the host set up, with what it registered. */
export interface LoadedPlugin {
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

/** What the host needs from its bot. */
export interface PluginHostOptions {
  /** The bot's logger; each plugin logs through a child naming it. */
  logger: Logger;
  /** The bot's command registry. */
  commands: CommandRegistry;
  /** Whether the bot is starting or running (faults past the limit disable a plugin only then). */
  isRunning: () => boolean;
  /** See `BotOptions.stopTimeoutMs`. @defaultValue 30000 */
  stopTimeoutMs?: number;
  /** See `BotOptions.pluginFaultLimit`. */
  faultLimit?: FaultLimit;
}

/**
 * A bot's plugins: their set-up in their own fault scope, their stop/close hooks and metrics
 * providers, fault accounting, and taking a faulty plugin out without stopping the bot.
 */
export class PluginHost {
  /** Errors thrown by plugins, by plugin name (for metrics). */
  readonly errors = new Map<string, number>();
  readonly #options: PluginHostOptions;
  readonly #plugins: LoadedPlugin[] = [];
  readonly #stopHooks: PluginHook<void | Promise<void>>[] = [];
  readonly #metricProviders: PluginHook<BotMetricsReport>[] = [];
  readonly #closeHooks: PluginHook<void | Promise<void>>[] = [];
  /** Plugins being disabled (their stop hooks and teardown); `shutdown()` waits for them. */
  readonly #disabling = new Set<Promise<void>>();

  constructor(options: PluginHostOptions) {
    this.#options = options;
  }

  /** Registers a plugin and runs `setup` in its scope. A failing setup is logged and the plugin disabled. */
  async load(plugin: Plugin<any>, setup: (loaded: LoadedPlugin) => Teardown | Promise<Teardown>): Promise<void> {
    const logger = this.#options.logger.child({ plugin: plugin.name });
    const loaded: LoadedPlugin = {
      plugin,
      logger,
      scope: { plugin: plugin.name, report: (error, origin, detail) => this.fault(loaded, error, origin, detail) },
      budget: new FaultBudget(this.#options.faultLimit),
      ended$: new Subject<void>(),
      commands: [],
      disabled: false,
    };
    this.#plugins.push(loaded);
    try {
      loaded.teardown = await runInScope(loaded.scope, () => setup(loaded));
      logger.debug('plugin set up');
    } catch (error) {
      this.fault(loaded, error, 'setup');
    }
  }

  /** Runs `hook` (in the plugin's scope) when the bot stops, before any teardown. */
  onStop(owner: LoadedPlugin, hook: () => void | Promise<void>): void {
    this.#stopHooks.push({ owner, hook });
  }

  /** Runs `hook` after every plugin's teardown. */
  onClose(owner: LoadedPlugin, hook: () => void | Promise<void>): void {
    this.#closeHooks.push({ owner, hook });
  }

  /** Asks `hook` for the plugin's figures at each {@link metricsReport}. */
  onMetrics(owner: LoadedPlugin, hook: () => BotMetricsReport): void {
    this.#metricProviders.push({ owner, hook });
  }

  /** The command registry as one plugin sees it: what it registers goes when it is disabled. */
  commandsFor(loaded: LoadedPlugin): PluginCommands {
    const registry = this.#options.commands;
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

  /** Sums what the plugins report for metrics (calls, recordings, transfers). */
  metricsReport(): BotMetricsReport {
    const parts: BotMetricsReport[] = [];
    for (const { owner, hook } of this.#metricProviders) {
      try {
        parts.push(runInScope(owner.scope, hook));
      } catch (error) {
        owner.scope.report(error, 'hook', { hook: 'metrics' });
      }
    }
    return sumReports(parts);
  }

  /**
   * Runs the stop hooks (bounded by `stopTimeoutMs`), waits for plugins being disabled, tears
   * plugins down in reverse order, then runs the close hooks.
   */
  async shutdown(): Promise<void> {
    await this.#runStopHooks(this.#stopHooks.splice(0));
    await Promise.all(this.#disabling);
    for (const loaded of this.#plugins.splice(0).reverse()) await this.#teardown(loaded);
    for (const hook of this.#closeHooks.splice(0).reverse()) await this.#runHook(hook, 'close');
  }

  /**
   * A fault in a plugin's code: counted (for `/metrics`) and logged with the plugin's name. A
   * failed setup disables the plugin at once; other faults disable it when they exceed the fault
   * limit. A failed command is answered to its sender and never disables a plugin (any user could
   * trigger it).
   */
  fault(loaded: LoadedPlugin, error: unknown, origin: FaultOrigin, detail: Record<string, unknown> = {}): void {
    const name = loaded.plugin.name;
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
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
    if (exhausted && this.#options.isRunning()) {
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
    const stopHooks = this.#stopHooks.filter((h) => h.owner === loaded);
    for (const hook of stopHooks) this.#stopHooks.splice(this.#stopHooks.indexOf(hook), 1);
    const done = (async () => {
      loaded.ended$.next();
      await this.#runStopHooks(stopHooks);
      await this.#teardown(loaded);
    })();
    this.#disabling.add(done);
    void done.finally(() => this.#disabling.delete(done));
  }

  /** Runs stop hooks in parallel, each in its plugin's scope, bounded by `stopTimeoutMs`. */
  async #runStopHooks(hooks: PluginHook<void | Promise<void>>[]): Promise<void> {
    if (hooks.length === 0) return;
    const timeoutMs = this.#options.stopTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(hooks.map((hook) => this.#runHook(hook, 'stop'))),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#options.logger.warn({ timeoutMs }, 'stop hooks did not finish in time; continuing shutdown');
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
      this.fault(owner, error, 'hook', { hook: kind });
    }
  }

  async #teardown(loaded: LoadedPlugin): Promise<void> {
    loaded.ended$.next();
    loaded.ended$.complete();
    for (const off of loaded.commands.splice(0)) off();
    try {
      await runInScope(loaded.scope, () => runTeardown(loaded.teardown));
    } catch (error) {
      this.fault(loaded, error, 'hook', { hook: 'teardown' });
    }
  }
}

/** Adds up plugins' metrics reports. */
function sumReports(parts: BotMetricsReport[]): BotMetricsReport {
  const out: BotMetricsReport = {};
  for (const part of parts) {
    out.callsActive = (out.callsActive ?? 0) + (part.callsActive ?? 0);
    out.recordingsActive = (out.recordingsActive ?? 0) + (part.recordingsActive ?? 0);
    out.recordingBytesWritten = (out.recordingBytesWritten ?? 0) + (part.recordingBytesWritten ?? 0);
    out.recordingPacketsDropped = (out.recordingPacketsDropped ?? 0) + (part.recordingPacketsDropped ?? 0);
    if (part.rtpStreams) (out.rtpStreams ??= []).push(...part.rtpStreams);
    if (part.fileTransfers) (out.fileTransfers ??= []).push(...part.fileTransfers);
  }
  return out;
}

async function runTeardown(teardown: Teardown): Promise<void> {
  if (!teardown) return;
  if (typeof teardown === 'function') await teardown();
  else teardown.unsubscribe();
}
