import type WebSocket from 'ws';
import type { RawData } from 'ws';
import type { BackoffPolicy } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { causeOfClose, causeOfError, causeOfResponse, causeOfTimeout, type ConnectionCause } from './cause.js';
import { ChannelError } from './errors.js';
import { describeFailure, displayUrl, FailureLog } from './failure-log.js';
import type { ConnectOptions } from './options.js';
import { ReconnectSchedule } from './reconnect.js';
import { isOpen, openWebSocket, writeText } from './socket.js';
import type { ChannelState, ConnectionFailure } from './state.js';

/** What a {@link Connection} needs from its channel. */
export interface ConnectionHooks {
  readonly log: Logger;
  /** WebSocket URL of the channeling endpoint (already validated). */
  readonly url: string;
  /** The channel is closing: open nothing new. */
  closing(): boolean;
  /** The session token to reclaim (`?t=<Token>`), once known. */
  token(): string | undefined;
  state(): ChannelState;
  setState(state: ChannelState): void;
  /** The current socket opened. */
  opened(): void;
  /** A message arrived on the current socket. */
  message(data: RawData, isBinary: boolean): void;
  /** The current socket is gone (also while closing); runs before a reconnect is scheduled. */
  lost(): void;
  /** The reconnect policy gave up, or the first connect did (see {@link Connection.limitFirstConnect}). */
  gaveUp(error: ChannelError): void;
}

/**
 * The socket lifecycle of a channel: opens one WebSocket per attempt with a connect timeout,
 * finds out why an attempt failed or a connection dropped (refused, unknown host, HTTP status on
 * the upgrade, TLS, timeout), reports it in the state and the log, and schedules the next attempt
 * with the reconnect policy until the channel reports the connection up
 * ({@link Connection.connected}) or closes.
 */
export class Connection {
  private current: WebSocket | undefined;
  private readonly schedule: ReconnectSchedule;
  private readonly failures: FailureLog;
  /** URL without query or user info, for logs and errors. */
  private readonly shownUrl: string;
  /** Why the current socket is failing; the first report wins (ws reports an error, then the close). */
  private cause: ConnectionCause | undefined;
  private lastCause: ConnectionCause | undefined;
  /** The current socket reached Self. */
  private established = false;
  private everConnected = false;
  private failFast = false;

  /**
   * @param policy delay before each reconnect attempt
   * @param connectTimeoutMs time from opening the socket to Self; by default 5 s, +5 s per attempt, at most 20 s
   */
  constructor(
    private readonly hooks: ConnectionHooks,
    policy: BackoffPolicy,
    connectTimeoutMs: number | undefined,
  ) {
    this.schedule = new ReconnectSchedule(policy, connectTimeoutMs);
    this.shownUrl = displayUrl(hooks.url);
    this.failures = new FailureLog(hooks.log, this.shownUrl);
  }

  /** True when frames can be written now. */
  get writable(): boolean {
    return isOpen(this.current);
  }

  /**
   * Bounds the first connect: gives up after `timeoutMs`, and at once on a permanent cause when
   * `failFast` is set. Has no effect once the channel has connected.
   */
  limitFirstConnect(options: ConnectOptions): void {
    if (this.everConnected) return;
    this.failFast = options.failFast ?? false;
    const timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return;
    this.schedule.armDeadline(timeoutMs, () => {
      if (this.everConnected || this.hooks.closing()) return;
      const cause = this.cause ?? this.lastCause;
      const message = `could not connect to ${this.shownUrl} within ${timeoutMs} ms: ${cause?.message ?? 'no answer yet'}`;
      // connect() rejects with this message: its caller reports it.
      this.hooks.log.debug({ url: this.shownUrl, cause: cause?.code, timeoutMs }, `channel: ${message}; giving up`);
      this.hooks.gaveUp(new ChannelError('connect_failed', message, { cause }));
    });
  }

  /** Opens the socket of the current attempt (nothing once the channel is closing). */
  open(): void {
    if (this.hooks.closing()) return;
    const attempt = this.schedule.attempt;
    const current = this.hooks.state();
    if (current.status !== 'connecting' || current.attempt !== attempt) this.hooks.setState({ status: 'connecting', attempt });
    this.cause = undefined;
    this.established = false;
    let socket: WebSocket;
    try {
      socket = openWebSocket(this.hooks.url, this.hooks.token());
    } catch (error) {
      this.fail(causeOfError(error as Error));
      return;
    }
    this.current = socket;
    this.schedule.armConnectTimeout((timeoutMs) => this.drop(causeOfTimeout(timeoutMs, isOpen(socket))));
    socket.on('open', () => socket === this.current && this.hooks.opened());
    socket.on('message', (data, isBinary) => socket === this.current && this.hooks.message(data, isBinary));
    socket.on('unexpected-response', (_request, response) => {
      if (socket === this.current) this.cause ??= causeOfResponse(response.statusCode ?? 0, response.statusMessage);
      response.resume();
      socket.terminate(); // while connecting: aborts the upgrade; 'error' and 'close' follow
    });
    socket.on('error', (error) => {
      this.hooks.log.debug({ err: error }, 'channel: socket error');
      if (socket === this.current) this.cause ??= causeOfError(error);
    });
    socket.on('close', (code, reason) => this.gone(socket, causeOfClose(code, reason.toString())));
  }

  /** The Self of this connection arrived: disarm the connect timeout and reset the attempt count. */
  connected(): void {
    this.schedule.connected();
    this.established = true;
    this.everConnected = true;
    this.failures.connected();
  }

  /** Drops the current socket at once (dead connection, connect timeout) and reconnects. */
  drop(cause: ConnectionCause): void {
    const socket = this.current;
    if (!socket) return;
    this.gone(socket, cause);
    socket.terminate();
  }

  /** Writes `text` when the socket is open. */
  write(text: string): void {
    writeText(this.current, text, this.hooks.log);
  }

  /** Cancels the timers and hands over the current socket (if any) for closing. */
  detach(): WebSocket | undefined {
    this.schedule.cancel();
    const socket = this.current;
    this.current = undefined;
    return socket;
  }

  private gone(socket: WebSocket, fallback: ConnectionCause): void {
    if (socket !== this.current) return;
    this.current = undefined;
    this.schedule.clearConnectTimeout();
    this.hooks.lost();
    if (this.hooks.closing()) return;
    this.fail(this.cause ?? fallback);
  }

  /** Reports the failure of the current attempt (or connection) and schedules the next attempt. */
  private fail(cause: ConnectionCause): void {
    const failure: ConnectionFailure = this.established ? 'lost' : this.everConnected ? 'reconnect' : 'connect';
    this.established = false;
    this.lastCause = cause;
    if (failure === 'connect' && this.failFast && cause.permanent) {
      return this.giveUp(failure, cause, describeFailure(failure, this.shownUrl, cause), true);
    }
    const delayMs = this.schedule.next();
    const attempt = this.schedule.attempt;
    if (delayMs === undefined) {
      return this.giveUp(failure, cause, `giving up after ${attempt - 1} reconnect attempts: ${describeFailure(failure, this.shownUrl, cause)}`);
    }
    const nextRetryAt = Date.now() + delayMs;
    this.failures.failed(failure, cause, { attempt, delayMs, at: nextRetryAt });
    this.hooks.setState({ status: 'reconnecting', attempt, delayMs, nextRetryAt, failure, cause, reason: cause.message });
    this.schedule.wait(delayMs, () => this.open());
  }

  private giveUp(failure: ConnectionFailure, cause: ConnectionCause, message: string, rejected = false): void {
    this.failures.failed(failure, cause, undefined, rejected);
    this.hooks.gaveUp(new ChannelError('connect_failed', message, { cause }));
  }
}
