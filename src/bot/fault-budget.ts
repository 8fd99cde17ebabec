/** How many faults a plugin may have in a sliding window before the bot disables it. */
export interface FaultLimit {
  /** Faults within `windowMs` that disable the plugin. @defaultValue 5 */
  faults?: number;
  /** The window. @defaultValue 60000 */
  windowMs?: number;
}

/** Default {@link FaultLimit}: 5 faults in 60 s. */
export const DEFAULT_FAULT_LIMIT: Required<FaultLimit> = { faults: 5, windowMs: 60_000 };

/** Counts faults in a sliding window; {@link record} says when the limit is reached. */
export class FaultBudget {
  readonly limit: Required<FaultLimit>;
  readonly #times: number[] = [];

  constructor(limit: FaultLimit = {}) {
    this.limit = { ...DEFAULT_FAULT_LIMIT, ...limit };
  }

  /** Records a fault; true when `faults` of them fell within the window. */
  record(now = Date.now()): boolean {
    this.#times.push(now);
    while (this.#times.length > 0 && now - this.#times[0]! >= this.limit.windowMs) this.#times.shift();
    return this.#times.length >= this.limit.faults;
  }
}
