/**
 * Token-bucket rate limiter keyed by an id (e.g. a sender's session id).
 * Each key may spend `burst` tokens at once; tokens refill at `perSecond`.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param burst - tokens available at once. @defaultValue 5
   * @param perSecond - refill rate. @defaultValue 0.5
   * @param maxKeys - bound on tracked keys, so a flood of new ids cannot grow memory. @defaultValue 10000
   */
  constructor(
    readonly burst = 5,
    readonly perSecond = 0.5,
    readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; false when the key is over its limit. */
  take(key: string): boolean {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
