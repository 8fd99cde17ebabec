import { CodedError } from '../util/errors.js';

/**
 * A module given to `spreed-bot run` (or named in a config file) started a bot of its own while
 * it was being loaded, instead of default-exporting a bot definition.
 */
export class ModuleStartsBotError extends CodedError<'module_starts_bot'> {
  override readonly name = 'ModuleStartsBotError';
  constructor(readonly modulePath: string) {
    super(
      'module_starts_bot',
      `${modulePath} starts its own bot (bot.start()) while 'spreed-bot run' loads it; nothing was connected. ` +
        `Either run it as a script (npx tsx ${modulePath}), or make it 'export default defineBot({ name, plugins })' ` +
        `without calling start() and run it with 'spreed-bot run ${modulePath}'`,
    );
  }
}

interface LoadingModule {
  path: string;
  refused?: ModuleStartsBotError;
}

// A global symbol, not a module variable: the CLI and a user's module may load two copies of
// spreed-bot (a global CLI and the project's own), and both must see the same guard.
const LOADING = Symbol.for('spreed-bot.loading-module');
type GuardHolder = { [LOADING]?: LoadingModule };

/**
 * Runs `load` (an import of a bot or plugin module) with the loading guard set: a `Bot.start()`
 * during it throws {@link ModuleStartsBotError} before connecting, and so does this function,
 * even when the module did not await `start()`.
 */
export async function whileLoadingModule<T>(path: string, load: () => Promise<T>): Promise<T> {
  const holder = globalThis as GuardHolder;
  const previous = holder[LOADING];
  const current: LoadingModule = { path };
  holder[LOADING] = current;
  // A module that calls `void bot.start()` leaves the refusal unhandled; it is reported below,
  // so it must not also crash the process as an unhandled rejection.
  const swallowRefusal = (reason: unknown) => {
    // Anything else behaves as without this listener: other listeners handle it, or it crashes.
    if (reason !== current.refused && process.listenerCount('unhandledRejection') === 1) throw reason;
  };
  process.on('unhandledRejection', swallowRefusal);
  try {
    const result = await load();
    if (current.refused) throw current.refused;
    return result;
  } catch (error) {
    throw current.refused ?? error;
  } finally {
    holder[LOADING] = previous;
    // Node reports unhandled rejections after the current microtasks: keep listening until then.
    setImmediate(() => process.off('unhandledRejection', swallowRefusal));
  }
}

/** Throws {@link ModuleStartsBotError} when called while a bot or plugin module is being loaded. */
export function refuseStartWhileLoadingModule(): void {
  const loading = (globalThis as GuardHolder)[LOADING];
  if (!loading) return;
  loading.refused ??= new ModuleStartsBotError(loading.path);
  throw loading.refused;
}
