import { basename } from 'node:path';
import { BehaviorSubject, type Observable } from 'rxjs';
import { silentLogger, type Logger } from '../util/logger.js';
import { sayByeAndClose } from './channel-util.js';
import { decodeChunk } from './chunk.js';
import { ChunkLayout } from './chunk-layout.js';
import { ChunkQueue } from './chunk-queue.js';
import { FileFetchError, type FetchErrorCode } from './errors.js';
import { FetchConnection, withTimeout } from './fetch-connection.js';
import { fetchLimits, type FetchLimits, type FetchOptions, type FetchResult } from './fetch-options.js';
import { parseFileInfo, type FileInfo } from './file-info.js';
import { sanitizeFileName } from './file-names.js';
import { PartFile } from './part-file.js';
import { RateMeter, type FetchProgress } from './progress.js';
import type { ChunkChannel } from './types.js';

export type { FetchOptions, FetchResult } from './fetch-options.js';

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
  private readonly limits: FetchLimits;
  private readonly progress: BehaviorSubject<FetchProgress>;
  private readonly rate = new RateMeter();
  private readonly abort = new AbortController();
  private readonly queue: ChunkQueue;
  private readonly layout: ChunkLayout;
  private readonly connections = new Set<FetchConnection>();
  private readonly logged = new Set<string>();
  private opening = 0;
  private failures = 0;
  private part?: PartFile;
  private ticker?: NodeJS.Timeout;
  private finished = false;
  private completing = false;
  private resolveDone!: (r: FetchResult) => void;
  private rejectDone!: (e: FileFetchError) => void;

  constructor(private readonly options: FetchOptions) {
    this.logger = (options.logger ?? silentLogger).child({ token: String(options.info?.id).slice(0, 12) });
    this.limits = fetchLimits(options);
    this.done = new Promise<FetchResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only watches progress$ must not crash the process with an unhandled rejection.
    this.done.catch(() => undefined);

    const info = parseFileInfo(options.info);
    this.info = info ?? { id: '', chunks: 0, name: 'download', size: 0, type: '' };
    this.name = sanitizeFileName(this.info.name);
    this.queue = new ChunkQueue(this.info.chunks);
    this.layout = new ChunkLayout(this.info, {
      isFinished: () => this.finished,
      received: (index, length) => this.markReceived(index, length),
      unreceived: (index, length) => this.queue.unmarkReceived(index, length),
      retry: (index, why) => this.retry(index, why),
      write: (index, payload) => this.write(index, payload),
      protocolError: (message) => this.fail('fetch_protocol', message),
    });
    this.progress = new BehaviorSubject<FetchProgress>({ received: 0, total: this.info.chunks, bytes: 0, rate: 0 });
    this.progress$ = this.progress.asObservable();

    if (!info) {
      this.fail('fetch_bad_file_info', 'the FileInfo is not valid (id, size, chunks, name); nothing to download');
      return;
    }
    if (options.chunkSize !== undefined && !this.layout.learn(options.chunkSize)) return;
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
      const part = await PartFile.create(this.options.targetDir, this.name);
      if (this.finished) {
        await part.discard();
        return;
      }
      this.part = part;
    } catch (cause) {
      this.fail('fetch_io', `cannot create the download file in ${this.options.targetDir}: ${(cause as Error).message}`, cause);
      return;
    }
    if (this.info.chunks === 0) {
      void this.complete();
      return;
    }
    const tick = Math.max(50, Math.min(1000, this.limits.requestTimeoutMs / 4));
    this.ticker = setInterval(() => this.checkTimeouts(), tick);
    this.ensureConnections();
  }

  // ---- connections ----

  private ensureConnections(): void {
    if (this.finished) return;
    const missing = this.info.chunks - this.queue.received;
    const wanted = missing <= 0 ? 0 : Math.min(this.limits.connections, Math.ceil(missing / this.limits.window));
    while (this.connections.size + this.opening < wanted) void this.openConnection();
  }

  private async openConnection(): Promise<void> {
    this.opening++;
    let channel: ChunkChannel;
    const opening = Promise.resolve().then(() => this.options.connector.open(this.options.peerId, this.info.id, this.abort.signal));
    try {
      channel = await withTimeout(opening, this.limits.openTimeoutMs, `opening a token connection took longer than ${this.limits.openTimeoutMs} ms`);
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
    const connection = new FetchConnection(channel);
    this.connections.add(connection);
    connection.listen(
      (m) => this.onMessage(connection, m),
      () => this.dropConnection(connection, 'closed by the sender'),
    );
    this.pump(connection);
  }

  /** Counts a failed or lost connection and schedules a replacement, or fails the download. */
  private connectionFailed(reason: string, cause?: unknown): void {
    this.failures++;
    if (this.failures > this.limits.maxConnectionFailures) {
      this.fail('fetch_connect_failed', `${reason}; gave up after ${this.failures} failed connections — is the sender still sharing it?`, cause);
      return;
    }
    const delay = Math.min(5000, 100 * 2 ** (this.failures - 1));
    setTimeout(() => this.ensureConnections(), delay);
  }

  /** Forgets a connection that closed or stalled; its pending chunks go back to the queue. */
  private dropConnection(connection: FetchConnection, reason: string): void {
    if (!this.connections.delete(connection)) return;
    connection.stopListening();
    for (const index of connection.takeInflight()) this.queue.requeue(index);
    connection.close();
    if (this.finished) return;
    this.logger.info({ reason, remaining: this.info.chunks - this.queue.received }, 'files: token connection lost, resuming on another');
    this.connectionFailed(`connection ${reason}`);
    for (const c of this.connections) this.pump(c);
  }

  // ---- requests ----

  /** Fills the connection's request window from the queue. */
  private pump(connection: FetchConnection): void {
    while (!this.finished && connection.inflight.size < this.limits.window) {
      const index = this.queue.next();
      if (index === undefined) return;
      this.queue.markRequested(index);
      if (!connection.request(index)) {
        this.dropConnection(connection, 'failed to send');
        return;
      }
    }
  }

  /** Requests a chunk again after a bad reply; fails the download after too many. */
  private retry(index: number, why: string): void {
    if (this.queue.isReceived(index)) return;
    const count = this.queue.countRetry(index);
    if (count > this.limits.maxRetries) {
      this.fail('fetch_too_many_retries', `chunk ${index} failed ${count} times (${why}); the sender's file may have changed`);
      return;
    }
    this.logger.debug({ index, why }, 'files: requesting chunk again');
    this.queue.requeue(index);
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const connection of [...this.connections]) {
      if (connection.inflight.size === 0) continue;
      if (now - connection.lastProgress > this.limits.requestTimeoutMs) {
        this.dropConnection(connection, `delivered nothing for ${this.limits.requestTimeoutMs} ms`);
        continue;
      }
      // A request long overdue on a connection that keeps delivering was skipped by the sender
      // (the web client uploader answers nothing for indices it refuses): ask again. On a connection
      // that went quiet, wait for the stall check above instead of charging the chunks a retry.
      if (now - connection.lastProgress > this.limits.requestTimeoutMs / 2) continue;
      for (const index of connection.takeOverdue(now, this.limits.requestTimeoutMs)) this.retry(index, 'request timed out');
      this.pump(connection);
    }
  }

  // ---- chunks ----

  private onMessage(connection: FetchConnection, message: string | Buffer): void {
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
    if (wasInflight || this.queue.isRequested(index)) connection.lastProgress = Date.now();
    if (!this.queue.isReceived(index)) this.layout.accept(index, payload);
    this.pump(connection);
  }

  private markReceived(index: number, length: number): void {
    this.queue.markReceived(index, length);
    this.emitProgress();
  }

  private emitProgress(): void {
    const { received, bytes } = this.queue;
    this.progress.next({ received, total: this.info.chunks, bytes, rate: this.rate.update(bytes) });
  }

  private write(index: number, payload: Buffer): void {
    const part = this.part!;
    part.write(this.layout.position(index), payload, (cause) =>
      this.fail('fetch_io', `writing ${part.path} failed: ${(cause as Error).message}`, cause),
    );
    if (this.queue.received === this.info.chunks && !this.layout.holdsLast) void this.complete();
  }

  // ---- end ----

  private async complete(): Promise<void> {
    if (this.completing) return;
    this.completing = true;
    this.stopNetwork();
    try {
      const part = this.part!;
      await part.flush();
      if (this.finished) return;
      const size = await part.close();
      if (size !== this.info.size) {
        this.fail('fetch_size_mismatch', `downloaded ${size} bytes but the FileInfo says ${this.info.size}`);
        return;
      }
      const path = await part.moveTo(this.options.targetDir, this.name);
      if (this.finished) return;
      this.finished = true;
      const result: FetchResult = { path, name: basename(path), size };
      this.emitProgress();
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
    for (const connection of this.connections) connection.close();
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
    await this.part?.discard();
  }

  private logOnce(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.logger.warn(message);
  }
}
