import { AsyncLocalStorage } from 'node:async_hooks';
import { config, Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Logger } from '../util/logger.js';

/*
 * Plugin isolation. Every value a plugin receives, its setup, its hooks and its commands run inside
 * an AsyncLocalStorage scope naming the plugin. Node carries that scope into everything the code
 * starts from there — timers, promises, callbacks — so an error nobody caught can be attributed:
 *
 * - a subscriber that throws: RxJS rethrows from a timer (`reportUnhandledError`) and calls our
 *   `config.onUnhandledError` inside the plugin's scope;
 * - an async subscriber or a floating promise that rejects: `unhandledRejection` sees the scope
 *   of the promise;
 * - a throw in the plugin's own setTimeout/setInterval/setImmediate: `uncaughtException` sees
 *   the scope of the timer.
 *
 * The process-level handlers are installed once per process and only while bots run (see
 * {@link guardProcess}). An error with no plugin scope (a bug in spreed-bot itself or in code
 * outside any bot) is logged and the process keeps running: the bots own meetings that are worth
 * more than a clean crash, and ffmpeg finishes each file anyway if the process dies later.
 */

/** Where a fault came from. */
export type FaultOrigin =
  /** a subscriber callback threw (RxJS) */
  | 'subscriber'
  /** a promise rejected and nobody handled it */
  | 'rejection'
  /** a timer or callback threw */
  | 'exception'
  /** `setup` threw or rejected */
  | 'setup'
  /** a stop/close hook or metrics provider threw */
  | 'hook'
  /** a chat command failed (answered to the sender; a remote user can cause it, so it never disables the plugin) */
  | 'command';

/** Scope of the plugin whose code is running, if any. */
export interface PluginScope {
  readonly plugin: string;
  report(error: unknown, origin: FaultOrigin, detail?: Record<string, unknown>): void;
}

const scope = new AsyncLocalStorage<PluginScope>();
let rxjsHooked = false;

function hookRxjs(): void {
  if (rxjsHooked) return;
  rxjsHooked = true;
  const previous = config.onUnhandledError;
  config.onUnhandledError = (error: unknown) => {
    const current = scope.getStore();
    if (current) current.report(error, 'subscriber');
    else if (previous) previous(error);
    else unattributed(error, 'subscriber');
  };
}

/** The scope of the plugin whose code is running now, if any. */
export function currentScope(): PluginScope | undefined {
  return scope.getStore();
}

/** Runs `fn` inside the plugin's scope. */
export function runInScope<T>(pluginScope: PluginScope, fn: () => T): T {
  hookRxjs();
  return scope.run(pluginScope, fn);
}

/** Operator delivering every notification inside the plugin's scope. */
export function inScope<T>(pluginScope: PluginScope): MonoTypeOperatorFunction<T> {
  hookRxjs();
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (value) => scope.run(pluginScope, () => subscriber.next(value)),
        error: (error: unknown) => scope.run(pluginScope, () => subscriber.error(error)),
        complete: () => scope.run(pluginScope, () => subscriber.complete()),
      }),
    );
}

// ---------------------------------------------------------------- process-level guard

/** Loggers of the bots that hold the guard (undefined: none given); the first one logs faults no plugin owns. */
const holders: (Logger | undefined)[] = [];

function unattributed(error: unknown, origin: FaultOrigin): void {
  const logger = holders.find((l) => l !== undefined);
  const what = origin === 'rejection' ? 'unhandled promise rejection' : 'uncaught exception';
  if (logger) logger.error({ err: error, origin }, `${what} outside any plugin; the bots keep running`);
  else console.error(`spreed-bot: ${what} outside any plugin`, error);
}

function dispatch(error: unknown, origin: FaultOrigin): void {
  const current = scope.getStore();
  if (current) current.report(error, origin);
  else unattributed(error, origin);
}

const onRejection = (reason: unknown): void => dispatch(reason, 'rejection');
const onException = (error: Error): void => dispatch(error, 'exception');

/**
 * Holds the process-level fault handlers (`unhandledRejection`, `uncaughtException`) while a bot
 * runs: installed when the first holder arrives, removed when the last one releases, so a
 * process without bots keeps Node's default behaviour. Returns the release function (idempotent).
 */
export function guardProcess(logger: Logger | undefined): () => void {
  hookRxjs();
  if (holders.length === 0) {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  }
  holders.push(logger);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders.splice(holders.indexOf(logger), 1);
    if (holders.length === 0) {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    }
  };
}
