import { BehaviorSubject, ReplaySubject, Subject, type Observable } from 'rxjs';
import WebSocket, { type RawData } from 'ws';
import {
  encodeFrame,
  frames,
  MAX_RECEIVED_FRAME,
  type OutgoingFrame,
  type Received,
  type SelfDoc,
  type SessionStatus,
  type WelcomeDoc,
} from '../protocol/index.js';
import { defaultBackoff, type BackoffPolicy } from '../util/backoff.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ChannelError, ChannelRequestError } from './errors.js';
import { parseFrame } from './fast-parse.js';
import { Keepalive } from './keepalive.js';
import { RequestTracker } from './request-tracker.js';
import type { ChannelState } from './state.js';
import { guardSubscriberErrors } from './unhandled.js';

/** Options of a {@link Channel}. */
export interface ChannelOptions {
  /** WebSocket URL of the channeling endpoint, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** Structured logger. @defaultValue `silentLogger` */
  logger?: Logger;
  /** Timeout of {@link Channel.request}. @defaultValue `10000` */
  requestTimeoutMs?: number;
  /** Send an Alive when nothing was received for this long. @defaultValue `5000` */
  aliveIdleMs?: number;
  /** Drop the socket and reconnect when still nothing was received after this long. @defaultValue `11500` */
  deadAfterMs?: number;
  /** Delay before each reconnect attempt. @defaultValue {@link defaultBackoff} (0 ms, +500 ms per attempt, ≤ 10 s, jitter) */
  reconnect?: BackoffPolicy;
  /** Frames kept while offline; beyond that {@link Channel.send} throws `queue_full`. @defaultValue `256` */
  maxQueue?: number;
  /** `Ua` sent in Hello (shown to others). @defaultValue `'spreed-bot'` */
  ua?: string;
  /**
   * Time from opening the socket to receiving Self before the attempt is abandoned.
   * @defaultValue like the web client: 5 s, +5 s per attempt, at most 20 s
   */
  connectTimeoutMs?: number;
}

/** An ICE server entry as RTCPeerConnection (and werift) take it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

interface RoomWish {
  name: string;
  pin?: string;
  type: string;
  ua?: string;
  version?: string;
}

interface Queued {
  text: string;
  iid?: string;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** Hello, Self and Room are never queued while offline (PROTOCOL-NOTES §2.7). */
const neverQueued = new Set<string>(['Hello', 'Self', 'Room']);
const MAX_TIMER = 2 ** 31 - 1;
/** A hostile server must not make one frame eat unbounded memory; a 5000-user Users list fits. */
const MAX_PAYLOAD = MAX_RECEIVED_FRAME;

/**
 * A channeling client: one WebSocket to a Spreed WebRTC server, exposed as RxJS streams of
 * validated documents, with Iid requests, keep-alive, and reconnect that reclaims the session
 * (`?t=<Token>`), rejoins the room and re-sends the status (PROTOCOL-NOTES §2).
 *
 * @example
 * ```ts
 * const channel = new Channel({ url: 'ws://127.0.0.1:8080/ws' });
 * await channel.connect();
 * await channel.hello({ room: 'demo' });
 * channel.documents$.pipe(ofType('Chat')).subscribe((chat) => console.log(chat.doc.Chat.Message));
 * ```
 */
export class Channel {
  /** Every valid document received, typed; invalid ones are dropped with one log line. Hot. */
  readonly documents$: Observable<Received>;
  /** Connection state; replays the current one on subscribe. */
  readonly state$: Observable<ChannelState>;
  /** Own Self document, the latest one replayed on subscribe. */
  readonly self$: Observable<SelfDoc>;
  /** Measured Alive round trips in milliseconds. */
  readonly rtt$: Observable<number>;
  /** Emits once and completes when the channel is closed; replayed to late subscribers. */
  readonly closed$: Observable<void>;
  /** Type of every frame accepted for sending (written now or queued while reconnecting); for metrics. */
  readonly sent$: Observable<string>;
  private readonly sentSubject = new Subject<string>();

  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly policy: BackoffPolicy;
  private readonly documents = new Subject<Received>();
  private readonly stateSubject = new BehaviorSubject<ChannelState>({ status: 'connecting', attempt: 0 });
  private readonly selfSubject = new ReplaySubject<SelfDoc>(1);
  private readonly rttSubject = new Subject<number>();
  private readonly closedSubject = new ReplaySubject<void>(1);
  private readonly requests = new RequestTracker();
  private readonly keepalive: Keepalive;

  private socket: WebSocket | undefined;
  /** The socket is open and its Self arrived: frames go out directly. */
  private ready = false;
  private selfDoc: SelfDoc | undefined;
  private token: string | undefined;
  private room: RoomWish | undefined;
  private status: SessionStatus | undefined;
  private queue: Queued[] = [];
  private joinWaiters: Waiter<WelcomeDoc>[] = [];
  private attempt = 0;
  private connecting: { promise: Promise<SelfDoc>; waiter: Waiter<SelfDoc>; settled: boolean } | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private selfRefreshTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  /**
   * Creates the channel; nothing happens on the network until {@link Channel.connect}.
   * @throws ChannelError `invalid_url` when `options.url` is not a ws:// or wss:// URL
   */
  constructor(private readonly options: ChannelOptions) {
    if (!URL.canParse(options.url) || !/^wss?:$/.test(new URL(options.url).protocol)) {
      throw new ChannelError('invalid_url', `not a WebSocket URL: ${JSON.stringify(options.url)}; use ws://host:port/ws or wss://…`);
    }
    this.log = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxQueue = options.maxQueue ?? 256;
    this.policy = options.reconnect ?? defaultBackoff;
    this.documents$ = this.documents.asObservable();
    this.state$ = this.stateSubject.asObservable();
    this.self$ = this.selfSubject.asObservable();
    this.rtt$ = this.rttSubject.asObservable();
    this.closed$ = this.closedSubject.asObservable();
    this.sent$ = this.sentSubject.asObservable();
    this.keepalive = new Keepalive(options.aliveIdleMs ?? 5000, options.deadAfterMs ?? 11_500, {
      sendAlive: (value) => this.ready && this.write(encodeFrame(frames.alive(value))),
      dead: (silentMs) => this.dropSocket(`nothing received for ${silentMs} ms`),
      rtt: (ms) => this.rttSubject.next(ms),
    });
    guardSubscriberErrors(this.log);
  }

  /** The current connection state. */
  get state(): ChannelState {
    return this.stateSubject.getValue();
  }

  /** The latest own Self document, once connected. */
  get self(): SelfDoc | undefined {
    return this.selfDoc;
  }

  /** Own session id, once connected. */
  get id(): string | undefined {
    return this.selfDoc?.Id;
  }

  /** ICE servers from the latest Self (`Turn` with credentials when the server has a TURN secret, and `Stun`). */
  iceServers(): IceServer[] {
    const self = this.selfDoc;
    if (!self) return [];
    const servers: IceServer[] = [];
    const turnUrls = self.Turn?.urls;
    if (turnUrls && turnUrls.length > 0) {
      servers.push({ urls: [...turnUrls], username: self.Turn?.username, credential: self.Turn?.password });
    }
    if (self.Stun && self.Stun.length > 0) servers.push({ urls: [...self.Stun] });
    return servers;
  }

  /**
   * Opens the socket. Resolves with the first Self; keeps retrying with the reconnect policy
   * until then. Rejects with `connect_failed` when the policy gives up, `closed` on close().
   */
  connect(): Promise<SelfDoc> {
    if (this.connecting) return this.connecting.promise;
    if (this.closing) return Promise.reject(new ChannelError('closed', 'the channel is closed: create a new Channel'));
    let waiter!: Waiter<SelfDoc>;
    const promise = new Promise<SelfDoc>((resolve, reject) => (waiter = { resolve, reject }));
    promise.catch(() => undefined); // the caller's to handle; never an unhandled rejection
    this.connecting = { promise, waiter, settled: false };
    this.openSocket();
    return promise;
  }

  /**
   * Sends a frame. While offline it is queued (bounded, FIFO) and flushed after the rejoin.
   * @throws ChannelError `closed` after close(), `queue_full` when the queue is full,
   *   `not_connected` for Hello/Self/Room while offline (they are never queued)
   */
  send(frame: OutgoingFrame): void {
    this.sendText(frame.Type, encodeFrame(frame));
  }

  /**
   * Sends a frame with a unique `Iid` and resolves with the reply that carries it.
   * Rejects with {@link ChannelRequestError} on an Error reply, ChannelError `timeout` when
   * nothing came back (the server drops many things silently), `connection_lost` when the
   * socket dropped after the request went out.
   */
  request(frame: OutgoingFrame, opts: { timeoutMs?: number } = {}): Promise<Received> {
    if (this.closing) return Promise.reject(this.closedError());
    const { iid, reply } = this.requests.open(frame.Type, opts.timeoutMs ?? this.requestTimeoutMs);
    try {
      this.sendText(frame.Type, encodeFrame(frame, iid), iid);
    } catch (error) {
      this.requests.fail(iid, error as Error);
    }
    return reply;
  }

  /**
   * Joins a room (Hello → Welcome). The room and PIN are remembered and rejoined after every
   * reconnect. `Credentials` are sent only with a PIN; on `authorization_not_required` the
   * Hello is retried once without it (PROTOCOL-NOTES §12.4). While offline, resolves with the
   * Welcome of the rejoin.
   * @param opts.type room type, `''` to land in the same rooms as web clients. @defaultValue `''`
   * @param opts.version `Hello.Version`. @defaultValue the server's own version from Self, as the web client does
   */
  hello(opts: { room: string; pin?: string; ua?: string; type?: string; version?: string }): Promise<WelcomeDoc> {
    if (this.closing) return Promise.reject(this.closedError());
    this.room = { name: opts.room, pin: opts.pin || undefined, type: opts.type ?? '', ua: opts.ua, version: opts.version };
    return this.join();
  }

  /** Leaves the room (others see a soft Left) and forgets it, so reconnects do not rejoin. */
  leave(): void {
    if (this.closing) return;
    this.room = undefined;
    const waiters = this.joinWaiters.splice(0);
    for (const w of waiters) w.reject(new ChannelError('aborted', 'leave() was called before the room was joined'));
    if (this.ready) this.write(encodeFrame(frames.leave()));
    const state = this.state;
    if (state.status === 'joined') this.setState({ status: 'connected', self: state.self });
  }

  /** Sends the session Status and remembers it; it is re-sent after every reconnect. */
  setStatus(status: SessionStatus): void {
    if (this.closing) throw this.closedError();
    this.status = status;
    if (this.ready) this.write(encodeFrame(frames.status(status)));
  }

  /** Closes the socket and completes every observable. Idempotent. */
  close(): Promise<void> {
    return this.shutdown('closed by client');
  }

  // ---------- socket lifecycle ----------

  private openSocket(): void {
    if (this.closing) return;
    const attempt = this.attempt;
    const current = this.state;
    if (current.status !== 'connecting' || current.attempt !== attempt) this.setState({ status: 'connecting', attempt });
    const url = new URL(this.options.url);
    if (this.token) url.searchParams.set('t', this.token);
    let socket: WebSocket;
    try {
      // ws answers server pings by itself (autoPong), which the real server requires within 60 s.
      socket = new WebSocket(url, { maxPayload: MAX_PAYLOAD, autoPong: true });
    } catch (error) {
      this.log.warn({ err: error }, 'channel: cannot open socket');
      this.scheduleReconnect(`cannot open socket: ${(error as Error).message}`);
      return;
    }
    this.socket = socket;
    const timeoutMs = this.options.connectTimeoutMs ?? Math.min(5000 + 5000 * attempt, 20_000);
    this.connectTimer = setTimeout(() => this.dropSocket(`no Self within ${timeoutMs} ms`), timeoutMs);
    this.connectTimer.unref?.();
    socket.on('open', () => socket === this.socket && this.keepalive.start());
    socket.on('message', (data, isBinary) => this.onMessage(socket, data, isBinary));
    socket.on('error', (error) => this.log.debug({ err: error }, 'channel: socket error'));
    socket.on('close', (code, reason) => this.onSocketGone(socket, `socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
  }

  private onSocketGone(socket: WebSocket, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.ready = false;
    this.keepalive.stop();
    clearTimeout(this.connectTimer);
    clearTimeout(this.selfRefreshTimer);
    this.requests.failWritten(() => new ChannelError('connection_lost', 'the socket dropped before the reply arrived; retry after reconnect'));
    if (this.closing) return;
    this.log.info({ reason }, 'channel: connection lost');
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const delayMs = this.policy.delay(this.attempt);
    if (delayMs === undefined) {
      const error = new ChannelError('connect_failed', `giving up after ${this.attempt - 1} reconnect attempts: ${reason}`);
      if (this.connecting && !this.connecting.settled) {
        this.connecting.settled = true;
        this.connecting.waiter.reject(error);
      }
      void this.shutdown(error.message);
      return;
    }
    this.setState({ status: 'reconnecting', attempt: this.attempt, delayMs, reason });
    this.reconnectTimer = setTimeout(() => this.openSocket(), delayMs);
  }

  /** Drops the current socket at once (dead connection, connect timeout) and reconnects. */
  private dropSocket(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.onSocketGone(socket, reason);
    socket.terminate();
  }

  private onMessage(socket: WebSocket, data: RawData, isBinary: boolean): void {
    if (socket !== this.socket) return;
    this.keepalive.received();
    if (isBinary) {
      this.log.warn('channel: dropped binary frame (the channeling API sends text only)');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.log.warn({ reason: parsed.reason }, 'channel: dropped invalid document');
      return;
    }
    this.dispatch(parsed.value);
  }

  private dispatch(received: Received): void {
    switch (received.kind) {
      case 'Self':
        this.onSelf(received.doc);
        break;
      case 'Welcome':
        if (this.room && this.selfDoc && received.doc.Room.Name === this.room.name) {
          this.setState({ status: 'joined', self: this.selfDoc, room: received.doc.Room });
        }
        break;
      case 'Room': {
        // A Room update of the current room may change its PIN, which is needed to rejoin.
        const state = this.state;
        if (this.room && state.status === 'joined' && received.doc.Name === this.room.name) {
          const creds = received.doc.Credentials;
          if (creds && creds.PIN !== undefined) this.room.pin = creds.PIN || undefined;
          this.setState({ status: 'joined', self: state.self, room: received.doc });
        }
        break;
      }
      case 'Alive':
        this.keepalive.echo(received.doc.Alive);
        break;
      default:
        break;
    }
    this.requests.settle(received);
    this.documents.next(received);
  }

  private onSelf(self: SelfDoc): void {
    const previous = this.selfDoc;
    if (previous && previous.Id !== self.Id) this.log.warn({ previous: previous.Id, id: self.Id }, 'channel: the server gave a new session (token expired or invalid)');
    this.selfDoc = self;
    this.token = self.Token;
    this.scheduleSelfRefresh(self);
    this.selfSubject.next(self);
    if (this.ready) {
      // A refresh (or an Authentication reply): same connection, new token and TURN credentials.
      const state = this.state;
      if (state.status === 'connected' || state.status === 'joined') this.setState({ ...state, self });
      return;
    }
    clearTimeout(this.connectTimer);
    this.attempt = 0;
    this.ready = true;
    this.setState({ status: 'connected', self });
    if (this.connecting && !this.connecting.settled) {
      this.connecting.settled = true;
      this.connecting.waiter.resolve(self);
    }
    this.resume();
  }

  /** After a (re)connect: Hello for the remembered room, then the last Status, then the queue. */
  private resume(): void {
    if (this.room) {
      const waiters = this.joinWaiters.splice(0);
      const joined = this.sendHello(this.room);
      joined.then(
        (welcome) => waiters.forEach((w) => w.resolve(welcome)),
        (error: Error) => {
          if (waiters.length === 0) this.log.warn({ err: error }, 'channel: rejoining the room failed');
          waiters.forEach((w) => w.reject(error));
        },
      );
    }
    if (this.status) this.write(encodeFrame(frames.status(this.status)));
    const queued = this.queue.splice(0);
    for (const entry of queued) {
      if (entry.iid !== undefined && !this.requests.has(entry.iid)) continue; // timed out meanwhile
      this.write(entry.text);
      if (entry.iid !== undefined) this.requests.written(entry.iid);
    }
  }

  private scheduleSelfRefresh(self: SelfDoc): void {
    clearTimeout(this.selfRefreshTimer);
    const ttl = self.Turn?.ttl ?? 0;
    if (!(ttl > 0)) return;
    // Fresh TURN credentials before the old ones expire, as the web client does (PROTOCOL-NOTES §2.2).
    this.selfRefreshTimer = setTimeout(() => {
      if (!this.ready) return;
      this.request(frames.self()).catch((error: Error) => this.log.warn({ err: error }, 'channel: Self refresh failed'));
    }, Math.min(ttl * 900, MAX_TIMER));
    this.selfRefreshTimer.unref?.();
  }

  // ---------- rooms ----------

  private join(): Promise<WelcomeDoc> {
    if (this.ready && this.room) return this.sendHello(this.room);
    return new Promise<WelcomeDoc>((resolve, reject) => this.joinWaiters.push({ resolve, reject }));
  }

  private async sendHello(room: RoomWish): Promise<WelcomeDoc> {
    const frame = frames.hello({
      Version: room.version ?? this.selfDoc?.Version ?? '',
      Ua: room.ua ?? this.options.ua ?? 'spreed-bot',
      Name: room.name,
      Type: room.type,
      ...(room.pin ? { Credentials: { PIN: room.pin } } : {}),
    });
    try {
      const reply = await this.request(frame);
      if (reply.kind !== 'Welcome') throw new ChannelError('unexpected_reply', `Hello was answered with ${reply.kind}, expected Welcome`);
      return reply.doc;
    } catch (error) {
      if (error instanceof ChannelRequestError && error.code === 'authorization_not_required' && room.pin && this.room === room) {
        this.log.info({ room: room.name }, 'channel: room has no PIN, joining without it');
        room.pin = undefined;
        return this.sendHello(room);
      }
      if (error instanceof ChannelError && error.code === 'connection_lost' && this.room === room) return this.join();
      if (error instanceof ChannelRequestError && this.room === room) {
        // A failed Hello leaves the session in no room (PROTOCOL-NOTES §2.3), and a rejected PIN
        // must not be retried on every reconnect: forget the room.
        this.room = undefined;
        const state = this.state;
        if (state.status === 'joined') this.setState({ status: 'connected', self: state.self });
      }
      throw error;
    }
  }

  // ---------- output ----------

  private sendText(type: string, text: string, iid?: string): void {
    if (this.closing) throw this.closedError();
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) {
      this.write(text);
      this.sentSubject.next(type);
      if (iid !== undefined) this.requests.written(iid);
      return;
    }
    if (neverQueued.has(type)) throw new ChannelError('not_connected', `${type} is never queued: wait until the channel is connected (entersState(channel, 'connected', ms))`);
    if (this.queue.length >= this.maxQueue) {
      throw new ChannelError('queue_full', `offline queue full (${this.maxQueue} frames): wait for the reconnect or raise maxQueue`);
    }
    this.queue.push({ text, iid });
    this.sentSubject.next(type);
  }

  private write(text: string): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text, (error) => error && this.log.debug({ err: error }, 'channel: write failed'));
  }

  private setState(state: ChannelState): void {
    if (this.stateSubject.getValue().status === 'closed') return;
    this.stateSubject.next(state);
  }

  private closedError(): ChannelError {
    return new ChannelError('closed', 'the channel is closed: create a new Channel');
  }

  private shutdown(reason: string): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      clearTimeout(this.reconnectTimer);
      clearTimeout(this.connectTimer);
      clearTimeout(this.selfRefreshTimer);
      this.keepalive.stop();
      this.ready = false;
      this.queue = [];
      this.requests.failAll(() => this.closedError());
      for (const w of this.joinWaiters.splice(0)) w.reject(this.closedError());
      if (this.connecting && !this.connecting.settled) {
        this.connecting.settled = true;
        this.connecting.waiter.reject(this.closedError());
      }
      const socket = this.socket;
      this.socket = undefined;
      if (socket) await closeSocket(socket);
      this.stateSubject.next({ status: 'closed', reason });
      this.stateSubject.complete();
      this.documents.complete();
      this.selfSubject.complete();
      this.rttSubject.complete();
      this.sentSubject.complete();
      this.closedSubject.next();
      this.closedSubject.complete();
    })();
    return this.closing;
  }
}

/** Closes a socket politely, terminating it when the close handshake takes too long. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.terminate(), 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, 'bye');
  });
}
