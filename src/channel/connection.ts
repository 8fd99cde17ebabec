import type WebSocket from 'ws';
import type { RawData } from 'ws';
import type { BackoffPolicy } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { ChannelError } from './errors.js';
import { ReconnectSchedule } from './reconnect.js';
import { isOpen, openWebSocket, writeText } from './socket.js';
import type { ChannelState } from './state.js';

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
  /** The reconnect policy gave up. */
  gaveUp(error: ChannelError): void;
}

/**
 * The socket lifecycle of a channel: opens one WebSocket per attempt with a connect timeout,
 * notices its loss, and schedules the next attempt with the reconnect policy until the channel
 * reports the connection up ({@link Connection.connected}) or closes.
 */
export class Connection {
  private current: WebSocket | undefined;
  private readonly schedule: ReconnectSchedule;

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
  }

  /** True when frames can be written now. */
  get writable(): boolean {
    return isOpen(this.current);
  }

  /** Opens the socket of the current attempt (nothing once the channel is closing). */
  open(): void {
    if (this.hooks.closing()) return;
    const attempt = this.schedule.attempt;
    const current = this.hooks.state();
    if (current.status !== 'connecting' || current.attempt !== attempt) this.hooks.setState({ status: 'connecting', attempt });
    let socket: WebSocket;
    try {
      socket = openWebSocket(this.hooks.url, this.hooks.token());
    } catch (error) {
      this.hooks.log.warn({ err: error }, 'channel: cannot open socket');
      this.scheduleReconnect(`cannot open socket: ${(error as Error).message}`);
      return;
    }
    this.current = socket;
    this.schedule.armConnectTimeout((timeoutMs) => this.drop(`no Self within ${timeoutMs} ms`));
    socket.on('open', () => socket === this.current && this.hooks.opened());
    socket.on('message', (data, isBinary) => socket === this.current && this.hooks.message(data, isBinary));
    socket.on('error', (error) => this.hooks.log.debug({ err: error }, 'channel: socket error'));
    socket.on('close', (code, reason) => this.gone(socket, `socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
  }

  /** The Self of this connection arrived: disarm the connect timeout and reset the attempt count. */
  connected(): void {
    this.schedule.connected();
  }

  /** Drops the current socket at once (dead connection, connect timeout) and reconnects. */
  drop(reason: string): void {
    const socket = this.current;
    if (!socket) return;
    this.gone(socket, reason);
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

  private gone(socket: WebSocket, reason: string): void {
    if (socket !== this.current) return;
    this.current = undefined;
    this.schedule.clearConnectTimeout();
    this.hooks.lost();
    if (this.hooks.closing()) return;
    this.hooks.log.info({ reason }, 'channel: connection lost');
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    const delayMs = this.schedule.next();
    const attempt = this.schedule.attempt;
    if (delayMs === undefined) {
      this.hooks.gaveUp(new ChannelError('connect_failed', `giving up after ${attempt - 1} reconnect attempts: ${reason}`));
      return;
    }
    this.hooks.setState({ status: 'reconnecting', attempt, delayMs, reason });
    this.schedule.wait(delayMs, () => this.open());
  }
}
