/** Signed distance `a - b` between two 16-bit RTP sequence numbers, in [-32768, 32767]. Pure. */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Options for {@link ReorderBuffer}. */
export interface ReorderBufferOptions {
  /** Longest time a packet waits for a missing predecessor. @defaultValue 200 */
  maxLatencyMs?: number;
  /** Most packets held at once; beyond that the gap is declared lost. @defaultValue 100 */
  maxPackets?: number;
  /** A jump this far ahead (or behind) is a restart of the stream, not loss. @defaultValue 3000 */
  resetDistance?: number;
}

/** Counters of a {@link ReorderBuffer}. */
export interface ReorderStats {
  received: number;
  emitted: number;
  lost: number;
  reordered: number;
  duplicates: number;
  /** Arrived after its slot was given up as lost. */
  late: number;
  resets: number;
}

/**
 * Puts RTP packets back in sequence-number order (16-bit wrap-around aware) with bounded latency.
 * In-order packets pass straight through; a gap holds later packets until the missing one arrives,
 * `maxLatencyMs` passes or `maxPackets` are held, then the gap is reported lost and the rest
 * released. Time comes from the caller, so this is pure and testable.
 */
export class ReorderBuffer<T> {
  private readonly maxLatencyMs: number;
  private readonly maxPackets: number;
  private readonly resetDistance: number;
  private next: number | undefined;
  private readonly held = new Map<number, { item: T; at: number }>();
  readonly stats: ReorderStats = { received: 0, emitted: 0, lost: 0, reordered: 0, duplicates: 0, late: 0, resets: 0 };

  /**
   * @param emit receives packets in order
   * @param onLoss receives the count and first sequence number of each gap given up
   */
  constructor(
    private readonly emit: (item: T, seq: number) => void,
    private readonly onLoss: (count: number, fromSeq: number) => void = () => undefined,
    options: ReorderBufferOptions = {},
  ) {
    this.maxLatencyMs = options.maxLatencyMs ?? 200;
    this.maxPackets = options.maxPackets ?? 100;
    this.resetDistance = options.resetDistance ?? 3000;
  }

  /** Packets waiting for a gap to fill. */
  get size(): number {
    return this.held.size;
  }

  /** Adds a packet with sequence number `seq` that arrived at `nowMs`. */
  push(seq: number, item: T, nowMs: number): void {
    this.stats.received++;
    if (this.next === undefined) this.next = seq;
    const d = seqDiff(seq, this.next);
    if (d > this.resetDistance || d < -this.resetDistance) {
      // The sender restarted its sequence (or we missed a long stretch): start over, no loss claim.
      this.stats.resets++;
      this.flush();
      this.next = seq;
    } else if (d < 0) {
      if (this.held.size === 0 && d === -1) this.stats.duplicates++;
      else this.stats.late++;
      return;
    }
    if (seq === this.next && this.held.size === 0) {
      this.release(seq, item);
      return;
    }
    if (this.held.has(seq)) {
      this.stats.duplicates++;
      return;
    }
    if (seq !== this.next) this.stats.reordered++;
    this.held.set(seq, { item, at: nowMs });
    this.drain();
    this.poll(nowMs);
  }

  /** Gives up gaps older than the latency bound; call periodically (e.g. every 20–50 ms). */
  poll(nowMs: number): void {
    while (this.held.size > 0 && (this.held.size > this.maxPackets || this.oldestAt() <= nowMs - this.maxLatencyMs)) {
      this.skipToEarliestHeld();
      this.drain();
    }
  }

  /** Releases everything held, in order, reporting the gaps as lost (end of stream). */
  flush(): void {
    while (this.held.size > 0) {
      this.skipToEarliestHeld();
      this.drain();
    }
  }

  private release(seq: number, item: T): void {
    this.stats.emitted++;
    this.next = (seq + 1) & 0xffff;
    this.emit(item, seq);
  }

  private drain(): void {
    for (let entry = this.held.get(this.next!); entry; entry = this.held.get(this.next!)) {
      this.held.delete(this.next!);
      this.release(this.next!, entry.item);
    }
  }

  private oldestAt(): number {
    let oldest = Infinity;
    for (const { at } of this.held.values()) oldest = Math.min(oldest, at);
    return oldest;
  }

  private skipToEarliestHeld(): void {
    let best = Infinity;
    let bestSeq = this.next!;
    for (const seq of this.held.keys()) {
      const d = seqDiff(seq, this.next!);
      if (d < best) {
        best = d;
        bestSeq = seq;
      }
    }
    if (best > 0) {
      this.stats.lost += best;
      this.onLoss(best, this.next!);
    }
    this.next = bestSeq;
  }
}
