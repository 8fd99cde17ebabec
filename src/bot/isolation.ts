import { AsyncLocalStorage } from 'node:async_hooks';
import { config, Observable, type MonoTypeOperatorFunction } from 'rxjs';

/*
 * Plugin isolation. RxJS catches an exception thrown in a subscriber callback and rethrows it
 * from a timer (`reportUnhandledError`), which would crash the process. We deliver every value
 * to a plugin inside an AsyncLocalStorage scope naming the plugin; the timer inherits that scope,
 * so our `config.onUnhandledError` hook knows which plugin threw, logs it once, and carries on.
 */

/** Scope of the plugin whose code is running, if any. */
export interface PluginScope {
  readonly plugin: string;
  report(error: unknown): void;
}

const scope = new AsyncLocalStorage<PluginScope>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const previous = config.onUnhandledError;
  config.onUnhandledError = (error: unknown) => {
    const current = scope.getStore();
    if (current) current.report(error);
    else if (previous) previous(error);
    else console.error('spreed-bot: unhandled error in an RxJS subscriber', error);
  };
}

/** Runs `fn` inside the plugin's scope. */
export function runInScope<T>(pluginScope: PluginScope, fn: () => T): T {
  install();
  return scope.run(pluginScope, fn);
}

/** Operator delivering every notification inside the plugin's scope. */
export function inScope<T>(pluginScope: PluginScope): MonoTypeOperatorFunction<T> {
  install();
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (value) => scope.run(pluginScope, () => subscriber.next(value)),
        error: (error: unknown) => scope.run(pluginScope, () => subscriber.error(error)),
        complete: () => scope.run(pluginScope, () => subscriber.complete()),
      }),
    );
}
