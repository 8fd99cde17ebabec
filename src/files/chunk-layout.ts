import { MAX_CHUNK_SIZE, chunkCount, type FileInfo } from './file-info.js';

/** What a {@link ChunkLayout} reports back to its download. */
export interface ChunkLayoutSink {
  /** True once the download succeeded or failed. */
  isFinished(): boolean;
  /** A chunk counts as received (`length` payload bytes). */
  received(index: number, length: number): void;
  /** Takes back {@link ChunkLayoutSink.received} for a held last chunk that did not fit. */
  unreceived(index: number, length: number): void;
  /** The chunk's length is wrong: request it again. */
  retry(index: number, why: string): void;
  /** A verified chunk to write at {@link ChunkLayout.position}. */
  write(index: number, payload: Buffer): void;
  /** The sender's chunk size contradicts the FileInfo; the download fails. */
  protocolError(message: string): void;
}

/**
 * Where the chunks of a file go: learns the sender's chunk size (given, or from the first received
 * chunk that is not the last one, like the web client), checks every chunk's length against it and
 * holds a last chunk that arrives before the chunk size is known.
 */
export class ChunkLayout {
  private chunkSize?: number;
  /** The last chunk, when it arrives before the chunk size is known. */
  private heldLast?: Buffer;

  constructor(
    private readonly info: FileInfo,
    private readonly sink: ChunkLayoutSink,
  ) {}

  /** Whether a last chunk waits for the chunk size. */
  get holdsLast(): boolean {
    return this.heldLast !== undefined;
  }

  /** Adopts the sender's chunk size if it fits FileInfo's size and chunk count; else reports a protocol error. */
  learn(size: number): boolean {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE || chunkCount(this.info.size, size) !== this.info.chunks) {
      this.sink.protocolError(`chunk size ${size} does not fit FileInfo (size ${this.info.size}, ${this.info.chunks} chunks)`);
      return false;
    }
    this.chunkSize = size;
    return true;
  }

  /** Byte offset of a chunk in the file; only once the chunk size is known. */
  position(index: number): number {
    return index * this.chunkSize!;
  }

  /** Verifies a chunk not yet received and passes it on to be counted and written, or re-requested. */
  accept(index: number, payload: Buffer): void {
    const last = this.info.chunks - 1;
    if (this.chunkSize === undefined) {
      if (index === last && last > 0) {
        // Cannot place the remainder before knowing the chunk size; keep it (≤ 64 KiB).
        this.heldLast = payload;
        this.sink.received(index, payload.length);
        return;
      }
      if (last === 0) {
        if (payload.length !== this.info.size) return this.sink.retry(index, `length ${payload.length} ≠ file size`);
        this.chunkSize = this.info.size;
      } else if (!this.learn(payload.length)) {
        return;
      }
      if (this.heldLast) {
        const held = this.heldLast;
        this.heldLast = undefined;
        if (!this.placeHeldLast(held)) return;
      }
    }
    const expected = this.expectedLength(index);
    if (payload.length !== expected) return this.sink.retry(index, `length ${payload.length}, expected ${expected}`);
    this.sink.received(index, payload.length);
    this.sink.write(index, payload);
  }

  private placeHeldLast(held: Buffer): boolean {
    const last = this.info.chunks - 1;
    if (held.length !== this.expectedLength(last)) {
      this.sink.unreceived(last, held.length);
      this.sink.retry(last, 'last chunk length does not fit the chunk size');
      return !this.sink.isFinished();
    }
    this.sink.write(last, held);
    return true;
  }

  private expectedLength(index: number): number {
    const chunkSize = this.chunkSize!;
    return Math.min(chunkSize, this.info.size - index * chunkSize);
  }
}
