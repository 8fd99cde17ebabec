import { BehaviorSubject, ReplaySubject, Subject, type Observable } from 'rxjs';
import type { RawData } from 'ws';
import { encodeFrame, frames, type OutgoingFrame, type Received, type SelfDoc, type SessionStatus, type WelcomeDoc } from '../protocol/index.js';
import { defaultBackoff } from '../util/backoff.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { causeOfSilence } from './cause.js';
import { ChannelError } from './errors.js';
import { parseFrame } from './fast-parse.js';
import { Connection, type ConnectionHooks } from './connection.js';
import { Keepalive } from './keepalive.js';
import { OfflineQueue } from './offline-queue.js';
import { iceServersOf, type ChannelOptions, type ConnectOptions, type IceServer } from './options.js';
import { RequestTracker } from './request-tracker.js';
import { RoomMembership } from './rooms.js';
import { SelfRefresh } from './self-refresh.js';
import { closeSocket, messageText } from './socket.js';
import type { ChannelState } from './state.js';
import { guardSubscriberErrors } from './unhandled.js';
import { Deferred } from './waiter.js';

export type { ChannelOptions, ConnectOptions, IceServer } from './options.js';

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
  private readonly documents = new Subject<Received>();
  private readonly stateSubject = new BehaviorSubject<ChannelState>({ status: 'connecting', attempt: 0 });
  private readonly selfSubject = new ReplaySubject<SelfDoc>(1);
  private readonly rttSubject = new Subject<number>();
  private readonly closedSubject = new ReplaySubject<void>(1);
  private readonly requests = new RequestTracker();
  private readonly keepalive: Keepalive;
  private readonly queue: OfflineQueue;
  private readonly connection: Connection;
  private readonly rooms: RoomMembership;
  private readonly selfRefresh: SelfRefresh;

  /** The socket is open and its Self arrived: frames go out directly. */
  private ready = false;
  private selfDoc: SelfDoc | undefined;
  private token: string | undefined;
  private status: SessionStatus | undefined;
  private connecting: Deferred<SelfDoc> | undefined;
  private closing: Promise<void> | undefined;

  /**
   * Creates the channel; nothing happens on the network until {@link Channel.connect}.
   * @throws ChannelError `invalid_url` when `options.url` is not a ws:// or wss:// URL
   */
  constructor(private readonly options: ChannelOptions) {
    if (!URL.canParse(options.url) || !/^wss?:$/.test(new URL(options.url).protocol)) {
      throw new ChannelError('invalid_url', `not a WebSocket URL: ${JSON.stringify(options.url)}; use ws://host:port/ws or wss://…`);
    }
    const log = (this.log = options.logger ?? silentLogger);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.queue = new OfflineQueue(options.maxQueue ?? 256);
    const connectionHooks: ConnectionHooks = {
      log,
      url: options.url,
      closing: () => this.closing !== undefined,
      token: () => this.token,
      state: () => this.state,
      setState: (state) => this.setState(state),
      opened: () => this.keepalive.start(),
      message: (data, isBinary) => this.onMessage(data, isBinary),
      lost: () => this.onSocketGone(),
      gaveUp: (error) => {
        this.connecting?.reject(error);
        void this.shutdown(error.message);
      },
    };
    this.connection = new Connection(connectionHooks, options.reconnect ?? defaultBackoff, options.connectTimeoutMs);
    this.documents$ = this.documents.asObservable();
    this.state$ = this.stateSubject.asObservable();
    this.self$ = this.selfSubject.asObservable();
    this.rtt$ = this.rttSubject.asObservable();
    this.closed$ = this.closedSubject.asObservable();
    this.sent$ = this.sentSubject.asObservable();
    this.keepalive = new Keepalive(options.aliveIdleMs ?? 5000, options.deadAfterMs ?? 11_500, {
      sendAlive: (value) => this.ready && this.write(encodeFrame(frames.alive(value))),
      dead: (silentMs) => this.connection.drop(causeOfSilence(silentMs)),
      rtt: (ms) => this.rttSubject.next(ms),
    });
    this.rooms = new RoomMembership({
      log,
      ua: options.ua,
      isReady: () => this.ready,
      self: () => this.selfDoc,
      request: (frame) => this.request(frame),
      state: () => this.state,
      setState: (state) => this.setState(state),
    });
    this.selfRefresh = new SelfRefresh(() => {
      if (!this.ready) return;
      this.request(frames.self()).catch((error: Error) => this.log.warn({ err: error }, 'channel: Self refresh failed'));
    });
    guardSubscriberErrors(log);
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
    return iceServersOf(this.selfDoc);
  }

  /**
   * Opens the socket. Resolves with the first Self; keeps retrying with the reconnect policy
   * until then (each change of failure cause is logged at warn with the URL and the next retry,
   * and shows in {@link Channel.state$}). Rejects with `connect_failed` when the policy gives up,
   * when `options.timeoutMs` passes, or on a permanent cause with `options.failFast`; the channel
   * is closed then. Rejects with `closed` on close(). A second call returns the first promise.
   */
  connect(options: ConnectOptions = {}): Promise<SelfDoc> {
    if (this.connecting) return this.connecting.promise;
    if (this.closing) return Promise.reject(new ChannelError('closed', 'the channel is closed: create a new Channel'));
    const connecting = new Deferred<SelfDoc>();
    connecting.promise.catch(() => undefined); // the caller's to handle; never an unhandled rejection
    this.connecting = connecting;
    this.connection.limitFirstConnect(options);
    this.connection.open();
    return connecting.promise;
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
    return this.rooms.hello(opts);
  }

  /** Leaves the room (others see a soft Left) and forgets it, so reconnects do not rejoin. */
  leave(): void {
    if (this.closing) return;
    this.rooms.forget();
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

  /** The socket is gone (before a reconnect is scheduled). */
  private onSocketGone(): void {
    this.ready = false;
    this.keepalive.stop();
    this.selfRefresh.stop();
    this.requests.failWritten(() => new ChannelError('connection_lost', 'the socket dropped before the reply arrived; retry after reconnect'));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.keepalive.received();
    if (isBinary) {
      this.log.warn('channel: dropped binary frame (the channeling API sends text only)');
      return;
    }
    const parsed = parseFrame(messageText(data));
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
      case 'Room':
        this.rooms.observe(received);
        break;
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
    this.selfRefresh.schedule(self);
    this.selfSubject.next(self);
    if (this.ready) {
      // A refresh (or an Authentication reply): same connection, new token and TURN credentials.
      const state = this.state;
      if (state.status === 'connected' || state.status === 'joined') this.setState({ ...state, self });
      return;
    }
    this.connection.connected();
    this.ready = true;
    this.setState({ status: 'connected', self });
    this.connecting?.resolve(self);
    this.resume();
  }

  /** After a (re)connect: Hello for the remembered room, then the last Status, then the queue. */
  private resume(): void {
    this.rooms.rejoin();
    if (this.status) this.write(encodeFrame(frames.status(this.status)));
    for (const entry of this.queue.drain()) {
      if (entry.iid !== undefined && !this.requests.has(entry.iid)) continue; // timed out meanwhile
      this.write(entry.text);
      if (entry.iid !== undefined) this.requests.written(entry.iid);
    }
  }

  // ---------- output ----------

  private sendText(type: string, text: string, iid?: string): void {
    if (this.closing) throw this.closedError();
    if (this.ready && this.connection.writable) {
      this.write(text);
      this.sentSubject.next(type);
      if (iid !== undefined) this.requests.written(iid);
      return;
    }
    this.queue.push(type, text, iid);
    this.sentSubject.next(type);
  }

  private write(text: string): void {
    this.connection.write(text);
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
      this.selfRefresh.stop();
      this.keepalive.stop();
      this.ready = false;
      this.queue.clear();
      this.requests.failAll(() => this.closedError());
      this.rooms.abort(() => this.closedError());
      this.connecting?.reject(this.closedError());
      const socket = this.connection.detach();
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
