import type { FileHandle } from 'node:fs/promises';
import type { Subscription } from 'rxjs';
import type { Logger } from '../util/logger.js';
import { CHUNK_HEADER_SIZE, parseControl, writeChunkHeader } from './chunk.js';
import { chunkLength } from './file-info.js';
import { isUnchanged, type OpenRefusal, type SharedFile, type SharedFiles } from './shared-files.js';
import type { ChunkChannel } from './types.js';

/** Flow-control and queue limits of one served connection. */
export interface ServingLimits {
  highWaterMark: number;
  lowWaterMark: number;
  readAhead: number;
  maxQueuedRequests: number;
}

type Refusal = OpenRefusal | 'out_of_range' | 'queue_full' | 'unknown_mode' | 'bad_request' | 'server_message';

const REFUSAL_TEXT: Record<Refusal, string> = {
  unknown_token: 'files: request for a token that is not shared, ignored',
  outside_root: 'files: shared file now resolves outside its folder, not served',
  changed: 'files: shared file changed since it was announced (size/mtime), not served',
  missing: 'files: shared file is gone, not served',
  out_of_range: 'files: chunk request out of range, ignored',
  queue_full: 'files: too many queued chunk requests, ignored',
  unknown_mode: 'files: unknown control message, ignored',
  bad_request: 'files: chunk request without a valid index, ignored',
  server_message: 'files: unexpected message from downloader, ignored',
};

interface Pending {
  index: number;
  data?: Promise<Buffer | undefined>;
}

type Opened = { ok: true; file: SharedFile; handle: FileHandle } | { ok: false; reason: OpenRefusal };

/**
 * Serves one token connection: answers `{"m":"r","i":N}` with chunk N, in request order, several
 * requests in flight. Reads a few chunks ahead and stops reading while the channel holds more than
 * the high watermark, so memory per connection stays at about readAhead chunks + high watermark.
 * Anything it will not serve gets no reply and one log line per reason per connection.
 *
 * Reading ahead also covers downloaders that keep one request in flight (the web client): once
 * requests come in index order and fewer than readAhead are queued, the chunks after the last
 * requested one are read before they are asked for, so the reply leaves in the same turn as the request arrives instead
 * of after a disk read through the thread pool (on a loaded machine each such hop costs
 * milliseconds, and with one chunk in flight every millisecond is lost throughput).
 */
export class ServingConnection {
  /** Resolves once the connection is closed and the file handle released. Never rejects. */
  readonly done: Promise<void>;
  /** Payload bytes sent so far (chunk headers excluded). */
  bytesSent = 0;
  /** Requests answered with a chunk read before the request arrived. */
  readAheadHits = 0;
  private readonly queue: Pending[] = [];
  /** Reads of chunks nobody asked for yet, by index: the ones after the last request. */
  private readonly speculative = new Map<number, Promise<Buffer | undefined>>();
  /** Index of the previous request; reading ahead starts once requests come in index order. */
  private lastRequested = -2;
  private readonly logged = new Set<Refusal>();
  private readonly subs: Subscription[] = [];
  private opened?: Promise<Opened>;
  private refused?: Refusal;
  private closed = false;
  /** Resolves the idle wait for a request. */
  private wake?: () => void;
  /** Resolves the wait for the send buffer to drain. */
  private wakeDrain?: () => void;

  constructor(
    private readonly channel: ChunkChannel,
    readonly token: string,
    private readonly files: SharedFiles,
    private readonly limits: ServingLimits,
    private readonly logger: Logger,
  ) {
    channel.bufferedAmountLowThreshold = limits.lowWaterMark;
    this.subs.push(
      channel.message$.subscribe({ next: (m) => this.onMessage(m) }),
      channel.closed$.subscribe(() => this.close()),
    );
    if (!files.has(token)) this.refuse('unknown_token');
    this.done = this.run();
  }

  /** Closes the channel (and its connection) and stops serving. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    this.queue.length = 0;
    this.speculative.clear();
    this.channel.close();
    this.wake?.();
    this.wakeDrain?.();
  }

  private onMessage(data: string | Buffer): void {
    if (this.closed) return;
    if (typeof data !== 'string') {
      this.logger.warn({ token: short(this.token), bytes: data.length }, 'files: binary data from downloader, closing connection');
      this.close();
      return;
    }
    const parsed = parseControl(data);
    if (!parsed.ok) {
      const code = parsed.error.code;
      if (code === 'control_invalid_json' || code === 'control_too_large') {
        this.logger.warn({ token: short(this.token), code }, 'files: invalid control message from downloader, closing connection');
        this.close();
      } else {
        this.logOnce(code === 'control_bad_index' ? 'bad_request' : 'unknown_mode');
      }
      return;
    }
    if (parsed.message.m === 'bye') {
      this.close();
      return;
    }
    this.request(parsed.message.i);
  }

  private request(index: number): void {
    if (this.refused) return this.logOnce(this.refused);
    const file = this.files.get(this.token);
    if (!file) return this.refuse('unknown_token');
    if (index >= file.info.chunks) return this.logOnce('out_of_range');
    if (this.queue.length >= this.limits.maxQueuedRequests) return this.logOnce('queue_full');
    this.opened ??= this.files.openForServing(this.token);
    const early = this.speculative.get(index);
    if (early) this.readAheadHits++;
    else this.speculative.clear(); // the downloader moved elsewhere (next job): those reads are wasted
    this.speculative.delete(index);
    this.queue.push({ index, data: early });
    const sequential = index === this.lastRequested + 1;
    this.lastRequested = index;
    this.startReads(sequential);
    this.wake?.();
  }

  /**
   * Starts the reads of the first readAhead queued requests and, when `speculate` (the downloader
   * asks in index order), of the chunks after the last one.
   */
  private startReads(speculate = false): void {
    const chunks = this.files.get(this.token)?.info.chunks ?? 0;
    const n = Math.min(this.limits.readAhead, this.queue.length);
    for (let k = 0; k < n; k++) {
      const entry = this.queue[k]!;
      entry.data ??= this.read(entry.index);
    }
    const last = this.queue.at(-1)?.index;
    if (!speculate || last === undefined || this.refused || this.closed) return;
    for (let i = last + 1; i < chunks && n + this.speculative.size < this.limits.readAhead; i++) {
      if (!this.speculative.has(i)) this.speculative.set(i, this.read(i));
    }
  }

  private async read(index: number): Promise<Buffer | undefined> {
    const opened = await this.opened!;
    if (!opened.ok) {
      this.refuse(opened.reason);
      return undefined;
    }
    if (this.refused || this.closed) return undefined;
    const { file, handle } = opened;
    try {
      const length = chunkLength(index, file.size, file.chunkSize);
      const buf = Buffer.allocUnsafe(CHUNK_HEADER_SIZE + length);
      // Both go to the thread pool at once: one round trip instead of two.
      const [unchanged, { bytesRead }] = await Promise.all([isUnchanged(file, handle), handle.read(buf, CHUNK_HEADER_SIZE, length, index * file.chunkSize)]);
      if (!unchanged) {
        this.refuse('changed');
        return undefined;
      }
      if (bytesRead !== length) {
        this.refuse('changed');
        return undefined;
      }
      return writeChunkHeader(buf, index);
    } catch (err) {
      this.logger.warn({ token: short(this.token), err }, 'files: reading shared file failed, closing connection');
      this.close();
      return undefined;
    }
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed) {
        const head = this.queue[0];
        if (!head) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        this.startReads();
        const chunk = await head.data;
        if (this.closed) break;
        this.queue.shift();
        if (!chunk) continue;
        if (this.channel.bufferedAmount >= this.limits.highWaterMark) await this.drained();
        if (this.closed) break;
        try {
          this.channel.send(chunk);
          this.bytesSent += chunk.length - CHUNK_HEADER_SIZE;
        } catch (err) {
          this.logger.debug({ token: short(this.token), err }, 'files: send failed, closing connection');
          this.close();
        }
      }
    } catch (err) {
      this.logger.error({ token: short(this.token), err }, 'files: serving loop failed, closing connection');
      this.close();
    } finally {
      const opened = await this.opened?.catch(() => undefined);
      if (opened?.ok) await opened.handle.close().catch(() => undefined);
    }
  }

  /** Waits until the channel's buffer drained to the low watermark, or the connection closed. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearInterval(poll);
        sub.unsubscribe();
        this.wakeDrain = undefined;
        resolve();
      };
      const sub = this.channel.bufferedAmountLow$.subscribe(done);
      this.wakeDrain = done;
      // Belt and braces: never hang on a missed low-water event.
      const poll = setInterval(() => {
        if (this.closed || this.channel.bufferedAmount <= this.limits.lowWaterMark) done();
      }, 250);
    });
  }

  private refuse(reason: Refusal): void {
    this.refused ??= reason;
    this.queue.length = 0;
    this.speculative.clear();
    this.logOnce(reason);
    if (reason === 'unknown_token') this.close();
  }

  private logOnce(reason: Refusal): void {
    if (this.logged.has(reason)) return;
    this.logged.add(reason);
    this.logger.warn({ token: short(this.token), reason }, REFUSAL_TEXT[reason]);
  }
}

function short(token: string): string {
  return token.slice(0, 12);
}
