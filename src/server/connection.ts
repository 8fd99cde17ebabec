import type { WebSocket, RawData } from 'ws';
import { parseClientFrame } from '../protocol/index.js';
import { selfDoc } from './docs.js';
import { dropResumedEntry, handlers, leaveRoom } from './handlers/index.js';
import type { Hub } from './hub.js';
import { exceedsNesting } from './json.js';
import { Session, type Outbound } from './session.js';

/**
 * One client WebSocket (PROTOCOL-NOTES §2.1, §2.6, §2.8): creates or resumes the session, pushes
 * Self, reads frames through a sliding-window rate limit that delays (pauses the socket) rather
 * than drops, pings and enforces the pong deadline, caps the outbound queue, and sends the hard
 * Left when the socket goes away.
 */
export class Connection implements Outbound {
  readonly session: Session;
  private readonly inbox: Buffer[] = [];
  /** Processing times of the last `inboundFramesPerSecond` frames. */
  private readonly recent: number[] = [];
  private pending = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private pongDeadline: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly hub: Hub,
    private readonly socket: WebSocket,
    token: string | undefined,
  ) {
    const identity = (token && hub.secrets.decodeToken(token)) || hub.secrets.newIdentity();
    this.session = new Session(identity.id, identity.sid, hub.secrets, this);
    const previous = hub.sessions.get(identity.id);
    hub.sessions.set(identity.id, this.session);
    hub.connections.set(this.session, this);
    if (previous) this.replace(previous);

    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => this.extendDeadline());
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => hub.logger.debug({ err: error, id: this.session.id }, 'socket error'));
    this.pingTimer = setInterval(() => {
      if (socket.readyState === socket.OPEN) socket.ping();
    }, hub.options.pingIntervalMs);
    this.extendDeadline();
    hub.reply(this.session, selfDoc(hub, this.session));
  }

  /** Takes over a session with the same Id: its socket is dropped, and no Left is sent for it. */
  private replace(previous: Session): void {
    previous.replaced = true;
    this.session.resumedFrom = previous.hello ? previous : previous.resumedFrom;
    const connection = this.hub.connections.get(previous);
    connection?.terminate();
  }

  send(frame: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.pending >= this.hub.options.outboundQueueLimit) {
      this.hub.stats.framesOverflowed++;
      this.hub.logger.debug({ id: this.session.id }, 'outbound queue full, frame dropped');
      return;
    }
    this.pending++;
    this.socket.send(frame, () => {
      this.pending--;
    });
  }

  /** Drops the socket without a close handshake (the client sees 1006). */
  terminate(): void {
    this.socket.terminate();
  }

  private extendDeadline(): void {
    if (this.pongDeadline) clearTimeout(this.pongDeadline);
    this.pongDeadline = setTimeout(() => {
      this.hub.logger.debug({ id: this.session.id }, 'pong deadline passed, dropping client');
      this.terminate();
    }, this.hub.options.pongTimeoutMs);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed || isBinary) return; // the real server ignores binary frames
    this.inbox.push(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    if (!this.pumpTimer) this.pump(); // else the rate-limit timer is already due to pump
  }

  /** Handles queued frames as fast as the sliding window allows; pauses reading while frames wait. */
  private pump(): void {
    this.pumpTimer = undefined;
    const limit = this.hub.options.inboundFramesPerSecond;
    while (this.inbox.length > 0 && !this.closed) {
      if (limit > 0 && this.recent.length >= limit) {
        const wait = this.recent[0]! + 1000 - Date.now();
        if (wait > 0) {
          if (!this.socket.isPaused) {
            this.socket.pause();
            this.hub.stats.rateLimitPauses++;
          }
          this.pumpTimer = setTimeout(() => this.pump(), wait);
          return;
        }
        this.recent.shift();
      }
      this.recent.push(Date.now());
      this.handle(this.inbox.shift()!.toString('utf8'));
    }
    if (this.socket.isPaused && !this.closed) this.socket.resume();
  }

  private handle(text: string): void {
    const { hub, session } = this;
    hub.stats.framesIn++;
    const drop = (reason: string) => {
      hub.stats.framesDropped++;
      hub.logger.debug({ id: session.id, reason }, 'dropped client frame');
    };
    if (exceedsNesting(text)) return drop('exceeded max nesting depth');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return drop(parsed.reason);
    const { type, doc, iid } = parsed.value;
    try {
      handlers[type]({ hub, session, doc, iid });
    } catch (error) {
      drop(`${type} handler failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    if (this.pongDeadline) clearTimeout(this.pongDeadline);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.inbox.length = 0;
    const { hub, session } = this;
    hub.connections.delete(session);
    if (hub.sessions.get(session.id) === session) hub.sessions.delete(session.id);
    if (!session.replaced) {
      leaveRoom(hub, session, 'hard');
      dropResumedEntry(hub, session);
      hub.images.delete(session.id);
    }
    session.closed = true;
  }
}

