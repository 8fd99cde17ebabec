import type { Logger } from '../util/logger.js';
import type { FileInfo } from './file-info.js';
import type { TokenConnector } from './types.js';

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
   * Chunk requests in flight per connection; `1` is the web client's stop-and-wait. The window must
   * cover the round trip: on a 40 ms link, 4 chunks (240 KB) per connection let the sender's SCTP
   * run dry and restart slowly (5.7–6.1 MB/s, 0.86× a raw channel), 8 kept it busy (6.6–6.9 MB/s,
   * 0.94–0.99×); on loopback both are the same (`npm run bench -- files`).
   * @defaultValue `8`
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

/** The limits of {@link FetchOptions} with their defaults applied. */
export interface FetchLimits {
  /** Parallel token connections wanted, at least 1. */
  connections: number;
  /** Chunk requests in flight per connection, at least 1. */
  window: number;
  requestTimeoutMs: number;
  openTimeoutMs: number;
  /** Re-requests per chunk, at most 255. */
  maxRetries: number;
  maxConnectionFailures: number;
}

/** Applies the defaults documented on {@link FetchOptions}. */
export function fetchLimits(options: FetchOptions): FetchLimits {
  return {
    connections: Math.max(1, Math.floor(options.connections ?? 2)),
    window: Math.max(1, Math.floor(options.window ?? 8)),
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    openTimeoutMs: options.openTimeoutMs ?? 30_000,
    maxRetries: Math.min(255, options.maxRetries ?? 5),
    maxConnectionFailures: options.maxConnectionFailures ?? 8,
  };
}
