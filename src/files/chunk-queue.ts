const TODO = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/**
 * The request bookkeeping of one download: which chunks are still to request, requested or
 * received, in which order to request them (chunks given back first, then the rest by index) and
 * how often each was requested again; counts the received chunks and their payload bytes.
 */
export class ChunkQueue {
  private readonly state: Uint8Array;
  private readonly retries: Uint8Array;
  private readonly retryQueue: number[] = [];
  private cursor = 0;
  private receivedCount = 0;
  private receivedBytes = 0;

  /** @param total Chunks in the file. */
  constructor(private readonly total: number) {
    this.state = new Uint8Array(total);
    this.retries = new Uint8Array(total);
  }

  /** Chunks received. */
  get received(): number {
    return this.receivedCount;
  }

  /** Payload bytes of the received chunks. */
  get bytes(): number {
    return this.receivedBytes;
  }

  /** The next chunk to request, or `undefined` when every chunk is requested or received. */
  next(): number | undefined {
    while (this.retryQueue.length > 0) {
      const index = this.retryQueue.shift()!;
      if (this.state[index] !== RECEIVED) return index;
    }
    while (this.cursor < this.total) {
      const index = this.cursor++;
      if (this.state[index] === TODO) return index;
    }
    return undefined;
  }

  /** Whether the chunk was received. */
  isReceived(index: number): boolean {
    return this.state[index] === RECEIVED;
  }

  /** Whether the chunk is requested and not yet received. */
  isRequested(index: number): boolean {
    return this.state[index] === REQUESTED;
  }

  /** Marks a chunk as requested. */
  markRequested(index: number): void {
    this.state[index] = REQUESTED;
  }

  /** Marks a chunk as received and counts its `length` payload bytes. */
  markReceived(index: number, length: number): void {
    this.state[index] = RECEIVED;
    this.receivedCount++;
    this.receivedBytes += length;
  }

  /** Takes back {@link ChunkQueue.markReceived}: the chunk is to request again. */
  unmarkReceived(index: number, length: number): void {
    this.state[index] = TODO;
    this.receivedCount--;
    this.receivedBytes -= length;
  }

  /** Puts a chunk back in the queue unless it was received; counts no retry. */
  requeue(index: number): void {
    if (this.state[index] === RECEIVED) return;
    this.state[index] = TODO;
    this.retryQueue.push(index);
  }

  /** Counts one more re-request of a chunk and returns how many it had so far. */
  countRetry(index: number): number {
    this.retries[index]!++;
    return this.retries[index]!;
  }
}
