import { seqDiff } from './jitter-buffer.js';

/**
 * Received and lost packets of one RTP stream, the RFC 3550 way: lost = expected − received,
 * where expected spans the extended sequence numbers seen. O(1) per packet; for metrics.
 */
export class RtpStreamCounter {
  received = 0;
  #first?: number;
  #highest = 0; // extended (unwrapped) highest sequence number

  /** Counts one packet by its sequence number. */
  count(sequenceNumber: number): void {
    this.received++;
    if (this.#first === undefined) {
      this.#first = this.#highest = sequenceNumber;
      return;
    }
    const ahead = seqDiff(sequenceNumber, this.#highest & 0xffff);
    if (ahead > 0) this.#highest += ahead;
  }

  /** Packets never received (never negative: duplicates do not count as negative loss). */
  get lost(): number {
    if (this.#first === undefined) return 0;
    return Math.max(0, this.#highest - this.#first + 1 - this.received);
  }
}
