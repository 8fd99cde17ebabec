import { silentLogger, type Logger } from '../util/logger.js';
import { ServingConnection, type ServingLimits } from './serving-connection.js';
import type { SharedFiles } from './shared-files.js';
import type { ChunkChannel, PeerRef } from './types.js';

/** Options for {@link FileServer}. */
export interface FileServerOptions {
  /** The registry of shared files; only these are served. */
  files: SharedFiles;
  /** Stop sending while a channel buffers this many bytes. @defaultValue `262144` (256 KiB) */
  highWaterMark?: number;
  /** Resume sending when the buffer drains to this. @defaultValue `65536` (64 KiB) */
  lowWaterMark?: number;
  /** Chunks read from disk ahead of sending, per connection. @defaultValue `4` */
  readAhead?: number;
  /** Requests queued per connection before more are ignored. @defaultValue `4096` */
  maxQueuedRequests?: number;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/**
 * Serves shared files on token connections: the peer layer answers a token Offer for a shared
 * token and hands the `"default"` channel to {@link FileServer.serve}. Any number of connections per
 * token are served concurrently.
 */
export class FileServer {
  private readonly limits: ServingLimits;
  private readonly logger: Logger;
  private readonly connections = new Set<ServingConnection>();
  private closed = false;
  private finishedBytes = 0;

  constructor(private readonly options: FileServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.limits = {
      highWaterMark: options.highWaterMark ?? 256 * 1024,
      lowWaterMark: options.lowWaterMark ?? 64 * 1024,
      readAhead: Math.max(1, options.readAhead ?? 4),
      maxQueuedRequests: options.maxQueuedRequests ?? 4096,
    };
    if (this.limits.lowWaterMark >= this.limits.highWaterMark) throw new RangeError('lowWaterMark must be below highWaterMark');
  }

  /** True when `token` is currently shared: answer token Offers only for these. */
  accepts(token: string): boolean {
    return this.options.files.has(token);
  }

  /** Number of connections being served. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Serves `token` on an open channel until the downloader says bye, the channel closes, or
   * {@link close}. A token that is not shared gets one log line and the channel is closed.
   */
  serve(channel: ChunkChannel, token: string, peer?: PeerRef): ServingConnection {
    const logger = peer ? this.logger.child({ peer: peer.id.slice(0, 16) }) : this.logger;
    const connection = new ServingConnection(channel, token, this.options.files, this.limits, logger);
    if (this.closed) connection.close();
    this.connections.add(connection);
    void connection.done.then(() => {
      this.connections.delete(connection);
      this.finishedBytes += connection.bytesSent;
    });
    return connection;
  }

  /** Payload bytes served over all connections, finished and running. */
  get bytesServed(): number {
    let bytes = this.finishedBytes;
    for (const c of this.connections) bytes += c.bytesSent;
    return bytes;
  }

  /** Closes every served connection. Idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.connections) c.close();
  }
}
