import type { Logger } from '../../util/logger.js';

/**
 * Logs a failure once per key (an error code, or code and participant): the first time at error,
 * repeats at debug, so a full disk does not print a line per packet or per participant.
 */
export class OnceReporter {
  readonly #seen = new Set<string>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs `message` with `fields` at error the first time `key` is seen, at debug after that. */
  report(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.#seen.has(key)) {
      this.#logger.debug(fields, `${message} (repeated)`);
      return;
    }
    this.#seen.add(key);
    this.#logger.error(fields, message);
  }

  /** Forgets what was reported (the cause went away). */
  clear(): void {
    this.#seen.clear();
  }
}
