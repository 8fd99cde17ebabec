import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import { silentLogger, type Logger } from '../util/logger.js';
import { sayByeAndClose } from './channel-util.js';
import { decodeChunk, requestMessage } from './chunk.js';
import { FileFetchError, type FetchErrorCode } from './errors.js';
import { MAX_CHUNK_SIZE, chunkCount, parseFileInfo, type FileInfo } from './file-info.js';
import { moveToFreeName, sanitizeFileName } from './file-names.js';
import { RateMeter, type FetchProgress } from './progress.js';
import type { ChunkChannel, TokenConnector } from './types.js';

/** Options for {@link fetchFile}. */
export interface FetchOptions {
  /** Opens token connections to the sender. */
  connector: TokenConnector;
  /** Session id of the peer that announced the file. */
  peerId: string;
  /** The announced FileInfo; its `id` is the token. Validated before anything is opened. */
  info: FileInfo;
  /** Folder the file is saved in (created if missing). */
  targetDir: string;
  /**
   * Parallel token connections, fewer for small files. More than one keeps a transfer going while a
   * dropped connection is replaced; on werift they add CPU cost rather than speed.
   * @defaultValue `2`
   */
  connections?: number;
  /**
   * Chunk requests in flight per connection; `1` is the web client's stop-and-wait. About 4 chunks
   * (240 KB) keep the sender's 256 KiB buffer busy; deeper queues made werift slower under CPU load.
   * @defaultValue `4`
   */
  window?: number;
  /**
   * The sender's chunk size when known. @defaultValue learned from the first received chunk that
   * is not the last one, like the web client
   */
  chunkSize?: number;
  /** A connection that delivers nothing this long while requests are pending is replaced. @defaultValue `15000` */
  requestTimeoutMs?: number;
  /** Limit for opening one token connection. @defaultValue `30000` */
  openTimeoutMs?: number;
  /** Re-requests per chunk (bad CRC, bad length, timeout) before giving up. @defaultValue `5` */
  maxRetries?: number;
  /** Connections that may fail to open or drop mid-transfer before giving up. @defaultValue `8` */
  maxConnectionFailures?: number;
  /** Aborting cancels the download like {@link FileFetch.cancel}. */
  signal?: AbortSignal;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/** A finished download. */
export interface FetchResult {
  /** Where the file was saved. */
  path: string;
  /** The file name used in the target folder, after sanitising and collision numbering. */
  name: string;
  /** Bytes written; equals `FileInfo.size`. */
  size: number;
}

interface Connection {
  readonly channel: ChunkChannel;
  /** Chunk index → time the request was sent. */
  readonly inflight: Map<number, number>;
  /** Last time this connection delivered a chunk (or got its first request). */
  lastProgress: number;
  readonly subs: Subscription[];
}

const TODO = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/**
 * Downloads a shared file from a peer: several token connections, a window of pipelined chunk
 * requests on each, CRC-checked chunks written at `index * chunkSize` into `.name.part` in the
 * target folder, then renamed to a free name once every chunk arrived and the size matches.
 * Bad chunks are re-requested, stalled or dropped connections are replaced and their chunks
 * requested again, and every connection gets `{"m":"bye"}` at the end.
 */
export function fetchFile(options: FetchOptions): FileFetch {
  return new FileFetch(options);
}

/** A running download; see {@link fetchFile}. */
export class FileFetch {
  /** Progress on every verified chunk; completes on success, errors on failure or cancel. */
  readonly progress$: Observable<FetchProgress>;
  /** Resolves with the saved file, rejects with a {@link FileFetchError}. */
  readonly done: Promise<FetchResult>;

  private readonly info: FileInfo;
  private readonly name: string;
  private readonly logger: Logger;
  private readonly connectionsWanted: number;
  private readonly window: number;
  private readonly requestTimeoutMs: number;
  private readonly openTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxConnectionFailures: number;
  private readonly progress: BehaviorSubject<FetchProgress>;
  private readonly rate = new RateMeter();
  private readonly abort = new AbortController();
  private readonly state: Uint8Array;
  private readonly retries: Uint8Array;
  private readonly retryQueue: number[] = [];
  private readonly connections = new Set<Connection>();
  private readonly writes = new Set<Promise<void>>();
  private readonly logged = new Set<string>();
  private cursor = 0;
  private received = 0;
  private bytes = 0;
  private chunkSize?: number;
  /** The last chunk, when it arrives before the chunk size is known. */
  private heldLast?: Buffer;
  private opening = 0;
  private failures = 0;
  private handle?: FileHandle;
  private partPath?: string;
  private ticker?: NodeJS.Timeout;
  private finished = false;
  private completing = false;
  private resolveDone!: (r: FetchResult) => void;
  private rejectDone!: (e: FileFetchError) => void;

  constructor(private readonly options: FetchOptions) {
    this.logger = (options.logger ?? silentLogger).child({ token: String(options.info?.id).slice(0, 12) });
    this.connectionsWanted = Math.max(1, Math.floor(options.connections ?? 2));
    this.window = Math.max(1, Math.floor(options.window ?? 4));
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.openTimeoutMs = options.openTimeoutMs ?? 30_000;
    this.maxRetries = Math.min(255, options.maxRetries ?? 5);
    this.maxConnectionFailures = options.maxConnectionFailures ?? 8;
    this.done = new Promise<FetchResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only watches progress$ must not crash the process with an unhandled rejection.
    this.done.catch(() => undefined);

    const info = parseFileInfo(options.info);
    this.info = info ?? { id: '', chunks: 0, name: 'download', size: 0, type: '' };
    this.name = sanitizeFileName(this.info.name);
    this.state = new Uint8Array(this.info.chunks);
    this.retries = new Uint8Array(this.info.chunks);
    this.progress = new BehaviorSubject<FetchProgress>({ received: 0, total: this.info.chunks, bytes: 0, rate: 0 });
    this.progress$ = this.progress.asObservable();

    if (!info) {
      this.fail('fetch_bad_file_info', 'the FileInfo is not valid (id, size, chunks, name); nothing to download');
      return;
    }
    if (options.chunkSize !== undefined && !this.learnChunkSize(options.chunkSize)) return;
    if (options.signal?.aborted) {
      this.cancel();
      return;
    }
    options.signal?.addEventListener('abort', () => this.cancel(), { once: true });
    void this.start();
  }

  /** Cancels the download: bye on every connection, the partial file is removed. Idempotent. */
  cancel(): void {
    this.fail('fetch_cancelled', 'download cancelled');
  }

  private async start(): Promise<void> {
    try {
      await mkdir(this.options.targetDir, { recursive: true });
      const { handle, path } = await openPartFile(this.options.targetDir, this.name);
      if (this.finished) {
        await handle.close().catch(() => undefined);
        await unlink(path).catch(() => undefined);
        return;
      }
      this.handle = handle;
      this.partPath = path;
    } catch (cause) {
      this.fail('fetch_io', `cannot create the download file in ${this.options.targetDir}: ${(cause as Error).message}`, cause);
      return;
    }
    if (this.info.chunks === 0) {
      void this.complete();
      return;
    }
    const tick = Math.max(50, Math.min(1000, this.requestTimeoutMs / 4));
    this.ticker = setInterval(() => this.checkTimeouts(), tick);
    this.ensureConnections();
  }

  // ---- connections ----

  private ensureConnections(): void {
    if (this.finished) return;
    const missing = this.info.chunks - this.received;
    const wanted = missing <= 0 ? 0 : Math.min(this.connectionsWanted, Math.ceil(missing / this.window));
    while (this.connections.size + this.opening < wanted) void this.openConnection();
  }

  private async openConnection(): Promise<void> {
    this.opening++;
    let channel: ChunkChannel;
    const opening = Promise.resolve().then(() => this.options.connector.open(this.options.peerId, this.info.id, this.abort.signal));
    try {
      channel = await withTimeout(opening, this.openTimeoutMs, `opening a token connection took longer than ${this.openTimeoutMs} ms`);
    } catch (err) {
      // A connection that opens after its timeout is nobody's: close it.
      opening.then((late) => late.close(), () => undefined);
      this.opening--;
      if (this.finished) return;
      this.logger.warn({ err }, 'files: opening a token connection failed');
      this.connectionFailed('could not open a token connection to the sender', err);
      return;
    }
    this.opening--;
    if (this.finished) {
      sayByeAndClose(channel);
      return;
    }
    const connection: Connection = { channel, inflight: new Map(), lastProgress: Date.now(), subs: [] };
    this.connections.add(connection);
    connection.subs.push(
      channel.message$.subscribe({ next: (m) => this.onMessage(connection, m) }),
      channel.closed$.subscribe(() => this.dropConnection(connection, 'closed by the sender')),
    );
    this.pump(connection);
  }

  /** Counts a failed or lost connection and schedules a replacement, or fails the download. */
  private connectionFailed(reason: string, cause?: unknown): void {
    this.failures++;
    if (this.failures > this.maxConnectionFailures) {
      this.fail('fetch_connect_failed', `${reason}; gave up after ${this.failures} failed connections — is the sender still sharing it?`, cause);
      return;
    }
    const delay = Math.min(5000, 100 * 2 ** (this.failures - 1));
    setTimeout(() => this.ensureConnections(), delay);
  }

  /** Forgets a connection that closed or stalled; its pending chunks go back to the queue. */
  private dropConnection(connection: Connection, reason: string): void {
    if (!this.connections.delete(connection)) return;
    for (const s of connection.subs) s.unsubscribe();
    for (const index of connection.inflight.keys()) this.requeue(index);
    connection.inflight.clear();
    sayByeAndClose(connection.channel);
    if (this.finished) return;
    this.logger.info({ reason, remaining: this.info.chunks - this.received }, 'files: token connection lost, resuming on another');
    this.connectionFailed(`connection ${reason}`);
    for (const c of this.connections) this.pump(c);
  }

  // ---- requests ----

  private nextIndex(): number | undefined {
    while (this.retryQueue.length > 0) {
      const index = this.retryQueue.shift()!;
      if (this.state[index] !== RECEIVED) return index;
    }
    while (this.cursor < this.info.chunks) {
      const index = this.cursor++;
      if (this.state[index] === TODO) return index;
    }
    return undefined;
  }

  private pump(connection: Connection): void {
    while (!this.finished && connection.inflight.size < this.window) {
      const index = this.nextIndex();
      if (index === undefined) return;
      if (connection.inflight.size === 0) connection.lastProgress = Date.now();
      this.state[index] = REQUESTED;
      connection.inflight.set(index, Date.now());
      try {
        connection.channel.send(requestMessage(index));
      } catch {
        this.dropConnection(connection, 'failed to send');
        return;
      }
    }
  }

  /** Puts a chunk back in the queue without counting a retry (its connection went away). */
  private requeue(index: number): void {
    if (this.state[index] === RECEIVED) return;
    this.state[index] = TODO;
    this.retryQueue.push(index);
  }

  /** Requests a chunk again after a bad reply; fails the download after too many. */
  private retry(index: number, why: string): void {
    if (this.state[index] === RECEIVED) return;
    this.retries[index]!++;
    if (this.retries[index]! > this.maxRetries) {
      this.fail('fetch_too_many_retries', `chunk ${index} failed ${this.retries[index]} times (${why}); the sender's file may have changed`);
      return;
    }
    this.logger.debug({ index, why }, 'files: requesting chunk again');
    this.requeue(index);
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const connection of [...this.connections]) {
      if (connection.inflight.size === 0) continue;
      if (now - connection.lastProgress > this.requestTimeoutMs) {
        this.dropConnection(connection, `delivered nothing for ${this.requestTimeoutMs} ms`);
        continue;
      }
      // A request long overdue on a connection that keeps delivering was skipped by the sender
      // (the web client uploader answers nothing for indices it refuses): ask again. On a connection
      // that went quiet, wait for the stall check above instead of charging the chunks a retry.
      if (now - connection.lastProgress > this.requestTimeoutMs / 2) continue;
      for (const [index, sentAt] of connection.inflight) {
        if (now - sentAt <= this.requestTimeoutMs) continue;
        connection.inflight.delete(index);
        this.retry(index, 'request timed out');
      }
      this.pump(connection);
    }
  }

  // ---- chunks ----

  private onMessage(connection: Connection, message: string | Buffer): void {
    if (this.finished) return;
    if (typeof message === 'string') {
      this.logOnce('text', 'files: unexpected text message from the sender, ignored');
      return;
    }
    const decoded = decodeChunk(message);
    if (!decoded.ok) {
      const index = decoded.index;
      if (decoded.error.code === 'chunk_crc' && index !== undefined && connection.inflight.delete(index)) {
        this.logger.warn({ index }, 'files: chunk failed its CRC check, requesting it again');
        this.retry(index, 'bad CRC');
        this.pump(connection);
      } else {
        this.logger.warn({ code: decoded.error.code }, `files: ${decoded.error.message}; replacing the connection`);
        this.dropConnection(connection, 'sent an invalid chunk');
      }
      return;
    }
    const { index, payload } = decoded.chunk;
    const wasInflight = connection.inflight.delete(index);
    if (index >= this.info.chunks) {
      this.logOnce('range', 'files: sender sent a chunk index beyond the file, ignored');
      return;
    }
    if (wasInflight || this.state[index] === REQUESTED) connection.lastProgress = Date.now();
    if (this.state[index] !== RECEIVED) this.accept(index, payload);
    this.pump(connection);
  }

  private accept(index: number, payload: Buffer): void {
    const last = this.info.chunks - 1;
    if (this.chunkSize === undefined) {
      if (index === last && last > 0) {
        // Cannot place the remainder before knowing the chunk size; keep it (≤ 64 KiB).
        this.heldLast = payload;
        this.markReceived(index, payload.length);
        return;
      }
      if (last === 0) {
        if (payload.length !== this.info.size) return this.retry(index, `length ${payload.length} ≠ file size`);
        this.chunkSize = this.info.size;
      } else if (!this.learnChunkSize(payload.length)) {
        return;
      }
      if (this.heldLast) {
        const held = this.heldLast;
        this.heldLast = undefined;
        if (!this.placeHeldLast(held)) return;
      }
    }
    const expected = this.expectedLength(index);
    if (payload.length !== expected) return this.retry(index, `length ${payload.length}, expected ${expected}`);
    this.markReceived(index, payload.length);
    this.write(index, payload);
  }

  private placeHeldLast(held: Buffer): boolean {
    const last = this.info.chunks - 1;
    if (held.length !== this.expectedLength(last)) {
      this.state[last] = TODO;
      this.received--;
      this.bytes -= held.length;
      this.retry(last, 'last chunk length does not fit the chunk size');
      return !this.finished;
    }
    this.write(last, held);
    return true;
  }

  /** Adopts the sender's chunk size if it fits FileInfo's size and chunk count. */
  private learnChunkSize(size: number): boolean {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE || chunkCount(this.info.size, size) !== this.info.chunks) {
      this.fail('fetch_protocol', `chunk size ${size} does not fit FileInfo (size ${this.info.size}, ${this.info.chunks} chunks)`);
      return false;
    }
    this.chunkSize = size;
    return true;
  }

  private expectedLength(index: number): number {
    const chunkSize = this.chunkSize!;
    return Math.min(chunkSize, this.info.size - index * chunkSize);
  }

  private markReceived(index: number, length: number): void {
    this.state[index] = RECEIVED;
    this.received++;
    this.bytes += length;
    this.progress.next({ received: this.received, total: this.info.chunks, bytes: this.bytes, rate: this.rate.update(this.bytes) });
  }

  private write(index: number, payload: Buffer): void {
    const handle = this.handle!;
    const position = index * this.chunkSize!;
    const pending = (async () => {
      let offset = 0;
      while (offset < payload.length) {
        const { bytesWritten } = await handle.write(payload, offset, payload.length - offset, position + offset);
        offset += bytesWritten;
      }
    })()
      .catch((cause: unknown) => this.fail('fetch_io', `writing ${this.partPath} failed: ${(cause as Error).message}`, cause))
      .finally(() => this.writes.delete(pending));
    this.writes.add(pending);
    if (this.received === this.info.chunks && this.heldLast === undefined) void this.complete();
  }

  // ---- end ----

  private async complete(): Promise<void> {
    if (this.completing) return;
    this.completing = true;
    this.stopNetwork();
    try {
      while (this.writes.size > 0) await Promise.all([...this.writes]);
      if (this.finished) return;
      const handle = this.handle!;
      this.handle = undefined;
      await handle.close();
      const size = (await stat(this.partPath!)).size;
      if (size !== this.info.size) {
        this.fail('fetch_size_mismatch', `downloaded ${size} bytes but the FileInfo says ${this.info.size}`);
        return;
      }
      const path = await moveToFreeName(this.partPath!, this.options.targetDir, this.name);
      if (this.finished) return;
      this.finished = true;
      const result: FetchResult = { path, name: basename(path), size };
      this.progress.next({ received: this.received, total: this.info.chunks, bytes: this.bytes, rate: this.rate.update(this.bytes) });
      this.progress.complete();
      this.logger.info({ name: result.name, size }, 'files: download complete');
      this.resolveDone(result);
    } catch (cause) {
      this.fail('fetch_io', `finishing the download failed: ${(cause as Error).message}`, cause);
    }
  }

  /** Says bye on every connection, closes them and stops the timers and pending opens. */
  private stopNetwork(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.abort.abort();
    for (const connection of this.connections) {
      for (const s of connection.subs) s.unsubscribe();
      sayByeAndClose(connection.channel);
    }
    this.connections.clear();
  }

  private fail(code: FetchErrorCode, message: string, cause?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.stopNetwork();
    const error = new FileFetchError(code, message, { cause });
    if (code !== 'fetch_cancelled') this.logger.warn({ code }, `files: download failed: ${message}`);
    // Settle only after the partial file is gone, so a caller never sees it.
    void this.discardPart().finally(() => {
      this.progress.error(error);
      this.rejectDone(error);
    });
  }

  private async discardPart(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    if (this.partPath) await unlink(this.partPath).catch(() => undefined);
  }

  private logOnce(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.logger.warn(message);
  }
}

/** Creates `.name.part` exclusively, numbering it when another download already uses that name. */
async function openPartFile(dir: string, name: string): Promise<{ handle: FileHandle; path: string }> {
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `.${name}.part` : `.${name}.${n}.part`);
    try {
      return { handle: await open(path, 'wx'), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw err;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
