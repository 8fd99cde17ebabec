import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { MediaError } from './errors.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Options for {@link RtspFeed.listen}. */
export interface RtspFeedOptions {
  /**
   * The session description ffmpeg receives on DESCRIBE; its m-lines need `a=control:trackID=<i>`
   * (see `writeSdp(..., { rtsp: true })`).
   */
  sdp: string;
  /** How many tracks the SDP has (one interleaved channel pair each). */
  tracks: number;
  logger?: Logger;
  /**
   * Packets are gathered and written to ffmpeg at most every `flushMs`: one write per batch instead
   * of one datagram per packet is what makes recording cheap (each write to loopback TCP costs the
   * writer tens of µs in the kernel; 100 ms measured 1.22× bare receive at 40 streams, 250 ms
   * 1.13×). A SIGKILL of the bot loses at most this much media, less than the second that ffmpeg's
   * own cluster flushing can lose. @defaultValue 250
   */
  flushMs?: number;
  /**
   * Bytes allowed to queue towards an ffmpeg that does not read (stuck disk) before packets are
   * dropped and counted in {@link RtspFeed.dropped}. @defaultValue 8 MiB
   */
  maxQueuedBytes?: number;
}

interface Request {
  method: string;
  url: string;
  headers: Map<string, string>;
}

const MAX_HEADER_BYTES = 16 * 1024;

/**
 * A one-client RTSP server on 127.0.0.1 that hands ffmpeg one participant's RTP, interleaved on
 * the RTSP TCP connection (RFC 2326 §10.12). ffmpeg connects with `-rtsp_transport tcp -i <url>`,
 * does OPTIONS/DESCRIBE/SETUP/PLAY, and reads `$ channel length packet` frames; its RTP demuxer
 * then does the depacketising exactly as it would for UDP.
 *
 * Why not UDP: one `send` per RTP packet costs node about as much as werift's whole receive path;
 * a TCP stream lets packets be batched into one write per {@link RtspFeedOptions.flushMs}. Why we
 * are the server: our port is chosen by the kernel (no races with other programs for UDP ports),
 * and ffmpeg sees end-of-stream as soon as we close, or as soon as the bot dies.
 *
 * Never throws after {@link listen}: a broken connection ends the feed (`closed`), requests it does
 * not support are answered with an RTSP error.
 */
export class RtspFeed {
  /**
   * `rtsp://127.0.0.1:<port>/<secret>`: the random path is the only way in, so another local
   * program that connects first cannot take ffmpeg's place.
   */
  readonly url: string;
  /** Resolves when ffmpeg sent PLAY: from then on {@link writeRtp} reaches it. */
  readonly playing: Promise<void>;
  /** Resolves when ffmpeg's connection has ended (or the feed was closed). */
  readonly closed: Promise<void>;
  /** Packets dropped because ffmpeg was not playing yet or not reading. */
  dropped = 0;
  /** Bytes written to ffmpeg so far (interleaved frames). */
  bytesWritten = 0;
  /** ffmpeg's connection, once it sent a request for {@link url}. */
  private socket: Socket | undefined;
  private readonly connections = new Set<Socket>();
  private readonly channels: (number | undefined)[];
  private isPlaying = false;
  private ended = false;
  private batch: Buffer<ArrayBuffer> = Buffer.allocUnsafe(0);
  private batchLength = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly logger: Logger;
  private readonly session = Math.floor(Math.random() * 1e12).toString(16);
  private resolvePlaying!: () => void;
  private resolveClosed!: () => void;

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly options: RtspFeedOptions,
  ) {
    this.url = `rtsp://127.0.0.1:${port}/${randomBytes(12).toString('hex')}`;
    this.channels = new Array<number | undefined>(options.tracks).fill(undefined);
    this.flushMs = options.flushMs ?? 250;
    this.maxQueued = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.logger = options.logger ?? silentLogger;
    this.playing = new Promise((resolve) => (this.resolvePlaying = resolve));
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Starts listening on an ephemeral 127.0.0.1 port. */
  static listen(options: RtspFeedOptions): Promise<RtspFeed> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', (err) => reject(new MediaError('FEED_LISTEN_FAILED', `cannot listen for ffmpeg on 127.0.0.1: ${err.message}`, { cause: err })));
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        resolve(new RtspFeed(server, port, options));
      });
    });
  }

  /**
   * Queues one RTP packet for track `track` (index into the SDP's m-lines); writes a plain
   * 12-byte-header packet, which is all ffmpeg needs. Dropped (and counted) before PLAY.
   */
  writeRtp(track: number, marker: boolean, payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Uint8Array): void {
    const channel = this.channels[track];
    if (!this.isPlaying || this.ended || channel === undefined) {
      this.dropped++;
      return;
    }
    if (this.socket!.writableLength > this.maxQueued) {
      if (this.dropped++ === 0) this.logger.warn({ url: this.url }, 'ffmpeg is not reading its input; dropping packets');
      return;
    }
    const length = 12 + payload.length;
    const out = this.reserve(4 + length);
    let at = this.batchLength;
    out[at] = 0x24; // '$'
    out[at + 1] = channel;
    out.writeUInt16BE(length, at + 2);
    out[at + 4] = 0x80;
    out[at + 5] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    out.writeUInt16BE(seq & 0xffff, at + 6);
    out.writeUInt32BE(timestamp >>> 0, at + 8);
    out.writeUInt32BE(ssrc >>> 0, at + 12);
    at += 16;
    out.set(payload, at);
    this.batchLength = at + payload.length;
    this.flushTimer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes what is queued now. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.batchLength === 0 || !this.socket || this.socket.destroyed) return;
    const chunk = this.batch.subarray(0, this.batchLength);
    this.bytesWritten += chunk.length;
    // The socket keeps `chunk` until written: start a fresh buffer rather than reuse it.
    this.batch = Buffer.allocUnsafe(0);
    this.batchLength = 0;
    this.socket.write(chunk);
  }

  /** Flushes and closes the connection: ffmpeg reads end-of-stream and finishes its file. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    this.socket?.end();
    this.dropStrangers();
    this.server.close();
    if (!this.socket) this.resolveClosed();
  }

  /** Drops the connection at once (abandon). */
  close(): void {
    this.ended = true;
    clearTimeout(this.flushTimer);
    this.socket?.destroy();
    this.dropStrangers();
    this.server.close();
    this.resolveClosed();
  }

  private dropStrangers(): void {
    for (const s of this.connections) if (s !== this.socket) s.destroy();
  }

  private reserve(bytes: number): Buffer {
    if (this.batchLength + bytes > this.batch.length) {
      // Grow to the larger of twice the size or what is needed; a typical batch is a few KiB.
      const grown = Buffer.allocUnsafe(Math.max(this.batch.length * 2, this.batchLength + bytes, 16 * 1024));
      this.batch.copy(grown, 0, 0, this.batchLength);
      this.batch = grown;
    }
    return this.batch;
  }

  private accept(socket: Socket): void {
    if (this.socket || this.ended) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      pending = this.consume(socket, pending);
      if (pending.length > MAX_HEADER_BYTES) {
        this.logger.warn({ port: socket.localPort }, 'oversized RTSP request on the recording feed; closing that connection');
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.logger.debug({ err }, 'rtsp feed connection error'));
    socket.on('close', () => {
      this.connections.delete(socket);
      if (socket !== this.socket) return;
      this.ended = true;
      clearTimeout(this.flushTimer);
      this.server.close();
      this.resolveClosed();
    });
  }

  /** The connection whose first request names our secret URL is ffmpeg's; others are closed. */
  private claim(socket: Socket, request: Request | undefined): boolean {
    if (socket === this.socket) return true;
    if (!this.socket && request && (request.url === this.url || request.url.startsWith(`${this.url}/`))) {
      this.socket = socket;
      this.dropStrangers();
      return true;
    }
    this.logger.warn({ port: socket.localPort }, 'a connection to the recording feed did not know its URL; closed');
    socket.destroy();
    return false;
  }

  /** Handles every complete message in `buf`; returns the unconsumed rest. */
  private consume(socket: Socket, buf: Buffer): Buffer {
    for (;;) {
      if (buf.length === 0) return buf;
      if (buf[0] === 0x24) {
        // ffmpeg's RTCP receiver reports, interleaved like our RTP: skip them.
        if (buf.length < 4) return buf;
        const size = 4 + buf.readUInt16BE(2);
        if (buf.length < size) return buf;
        buf = buf.subarray(size);
        continue;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return buf;
      const head = buf.subarray(0, end).toString('latin1');
      const request = parseRequest(head);
      const bodyLength = Number(request?.headers.get('content-length') ?? 0) || 0;
      if (buf.length < end + 4 + bodyLength) return buf;
      buf = buf.subarray(end + 4 + bodyLength);
      if (!this.claim(socket, request)) return Buffer.alloc(0);
      this.answer(request);
    }
  }

  private answer(request: Request | undefined): void {
    const cseq = request?.headers.get('cseq') ?? '0';
    const reply = (status: string, headers: Record<string, string> = {}, body = ''): void => {
      const lines = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      this.socket?.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    if (!request) return reply('400 Bad Request');
    const session = { Session: `${this.session};timeout=60` };
    switch (request.method) {
      case 'OPTIONS':
        return reply('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER' });
      case 'DESCRIBE':
        return reply('200 OK', { 'Content-Base': `${this.url}/`, 'Content-Type': 'application/sdp' }, this.options.sdp);
      case 'SETUP': {
        const track = Number(/trackID=(\d+)/.exec(request.url)?.[1] ?? NaN);
        const transport = request.headers.get('transport') ?? '';
        const interleaved = /interleaved=(\d+)(?:-(\d+))?/.exec(transport);
        if (!(track >= 0 && track < this.channels.length)) return reply('404 Not Found');
        if (!/RTP\/AVP\/TCP/i.test(transport) || !interleaved) return reply('461 Unsupported Transport');
        const rtp = Number(interleaved[1]);
        this.channels[track] = rtp;
        return reply('200 OK', { Transport: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${interleaved[2] ?? rtp + 1}`, ...session });
      }
      case 'PLAY':
        if (this.channels.some((c) => c === undefined)) return reply('455 Method Not Valid in This State');
        reply('200 OK', session);
        this.isPlaying = true;
        this.resolvePlaying();
        return;
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return reply('200 OK', session);
      case 'TEARDOWN':
        reply('200 OK', session);
        this.isPlaying = false;
        return;
      default:
        return reply('501 Not Implemented');
    }
  }
}

/** Parses an RTSP request head (request line + headers, lower-cased names). Pure. */
export function parseRequest(head: string): Request | undefined {
  const [line, ...rest] = head.split('\r\n');
  const match = /^([A-Z_]+) (\S+) RTSP\/1\.0$/.exec(line ?? '');
  if (!match) return undefined;
  const headers = new Map<string, string>();
  for (const h of rest) {
    const colon = h.indexOf(':');
    if (colon > 0) headers.set(h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim());
  }
  return { method: match[1]!, url: match[2]!, headers };
}
