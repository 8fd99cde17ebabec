/** Why a recording should stop by itself. */
export type IdleReason = 'empty' | 'silent';

/**
 * The record plugin's stop policy: a recording ends when the bot has had nobody to record for
 * `emptyMs`, or no RTP packet for `silentMs`. Fed once a second.
 */
export class IdlePolicy {
  readonly #emptyMs: number;
  readonly #silentMs: number;
  #emptySince?: number;
  #lastPackets = 0;
  #lastMediaAt = Date.now();

  constructor(limits: { emptyMs: number; silentMs: number }) {
    this.#emptyMs = limits.emptyMs;
    this.#silentMs = limits.silentMs;
  }

  /** A recording started: media time counts from now. */
  reset(now = Date.now()): void {
    this.#emptySince = undefined;
    this.#lastMediaAt = now;
  }

  /** Takes the current figures; says why the recording should stop, if it should. */
  check(figures: { empty: boolean; packetsReceived: number }, now = Date.now()): IdleReason | undefined {
    this.#emptySince = figures.empty ? (this.#emptySince ?? now) : undefined;
    if (figures.packetsReceived !== this.#lastPackets) {
      this.#lastPackets = figures.packetsReceived;
      this.#lastMediaAt = now;
    }
    if (this.#emptySince !== undefined && now - this.#emptySince >= this.#emptyMs) return 'empty';
    if (now - this.#lastMediaAt >= this.#silentMs) return 'silent';
    return undefined;
  }
}
