import { config } from 'rxjs';
import type { Logger } from '../util/logger.js';

let logger: Logger | undefined;
let installed = false;

/**
 * RxJS reports an exception thrown inside a subscriber's `next` by rethrowing it on a timer,
 * which would crash the process. Unless the application set its own `config.onUnhandledError`,
 * route such exceptions to one log line instead, so one faulty subscriber cannot take down the
 * bot while the document pipeline keeps running for everybody else.
 */
export function guardSubscriberErrors(log: Logger): void {
  logger = log;
  if (installed || config.onUnhandledError) return;
  installed = true;
  config.onUnhandledError = (error: unknown) => {
    logger?.error({ err: error }, 'a subscriber threw; the error was dropped and the stream goes on');
  };
}
