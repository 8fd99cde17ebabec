/**
 * Reconnect policy: a small replaceable object that says how long to wait before the next
 * attempt, or `undefined` to give up.
 */
export interface BackoffPolicy {
  /**
   * Delay before reconnect attempt `attempt` (1 for the first retry after a loss).
   * @returns milliseconds to wait, or `undefined` to stop reconnecting
   */
  delay(attempt: number): number | undefined;
}

/** Options of {@link linearBackoff}. */
export interface LinearBackoffOptions {
  /** Delay of the first attempt. @defaultValue `0` */
  initialMs?: number;
  /** Added per further attempt. @defaultValue `500` */
  stepMs?: number;
  /** Upper bound of the delay (before jitter). @defaultValue `10000` */
  maxMs?: number;
  /** Random spread as a fraction of the delay, ±. @defaultValue `0.2` */
  jitter?: number;
  /** Give up after this many attempts. @defaultValue `Infinity` */
  maxAttempts?: number;
  /** Random source in [0, 1), replaceable for tests. @defaultValue `Math.random` */
  random?: () => number;
}

/**
 * The stock web client's schedule (PROTOCOL-NOTES §2.7): 0 ms, then +500 ms per attempt,
 * capped at 10 s, with jitter so that many bots do not reconnect in lockstep.
 */
export function linearBackoff(options: LinearBackoffOptions = {}): BackoffPolicy {
  const { initialMs = 0, stepMs = 500, maxMs = 10_000, jitter = 0.2, maxAttempts = Infinity, random = Math.random } = options;
  return {
    delay(attempt) {
      if (attempt > maxAttempts) return undefined;
      const base = Math.min(initialMs + stepMs * Math.max(0, attempt - 1), maxMs);
      const spread = base * jitter * (random() * 2 - 1);
      return Math.max(0, Math.round(base + spread));
    },
  };
}

/** The default reconnect policy: {@link linearBackoff} with its defaults. */
export const defaultBackoff: BackoffPolicy = linearBackoff();
