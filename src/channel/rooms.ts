import { frames, type OutgoingFrame, type Received, type SelfDoc, type WelcomeDoc } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';
import { ChannelError, ChannelRequestError } from './errors.js';
import type { ChannelState } from './state.js';
import type { Waiter } from './waiter.js';

/** The room the caller wants to be in, rejoined after every reconnect. */
export interface RoomWish {
  name: string;
  pin?: string;
  type: string;
  ua?: string;
  version?: string;
}

/** What a {@link RoomMembership} needs from its channel. */
export interface RoomHost {
  readonly log: Logger;
  /** `ChannelOptions.ua`. */
  readonly ua: string | undefined;
  /** The socket is open and its Self arrived. */
  isReady(): boolean;
  /** The latest own Self. */
  self(): SelfDoc | undefined;
  /** `Channel.request` with the default timeout. */
  request(frame: OutgoingFrame): Promise<Received>;
  state(): ChannelState;
  setState(state: ChannelState): void;
}

/**
 * The room wish and Hello/rejoin logic: joins now or after the next (re)connect, retries once
 * without a PIN on `authorization_not_required` (PROTOCOL-NOTES §12.4), follows PIN changes of
 * the current room, and forgets the room when a Hello is refused.
 */
export class RoomMembership {
  private wish: RoomWish | undefined;
  private waiters: Waiter<WelcomeDoc>[] = [];

  constructor(private readonly host: RoomHost) {}

  /** Remembers the room and joins it; while offline resolves with the Welcome of the rejoin. */
  hello(opts: { room: string; pin?: string; ua?: string; type?: string; version?: string }): Promise<WelcomeDoc> {
    this.wish = { name: opts.room, pin: opts.pin || undefined, type: opts.type ?? '', ua: opts.ua, version: opts.version };
    return this.join();
  }

  /** Forgets the room and rejects joins still waiting for a connection with `aborted`. */
  forget(): void {
    this.wish = undefined;
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.reject(new ChannelError('aborted', 'leave() was called before the room was joined'));
  }

  /** After a (re)connect: Hello for the remembered room, settling the waiting joins with its outcome. */
  rejoin(): void {
    if (!this.wish) return;
    const waiters = this.waiters.splice(0);
    const joined = this.sendHello(this.wish);
    joined.then(
      (welcome) => waiters.forEach((w) => w.resolve(welcome)),
      (error: Error) => {
        if (waiters.length === 0) this.host.log.warn({ err: error }, 'channel: rejoining the room failed');
        waiters.forEach((w) => w.reject(error));
      },
    );
  }

  /** Rejects every waiting join (on close). */
  abort(error: () => Error): void {
    for (const w of this.waiters.splice(0)) w.reject(error());
  }

  /** Follows Welcome and Room documents of the remembered room into the channel state. */
  observe(received: Received): void {
    if (received.kind === 'Welcome') {
      const self = this.host.self();
      if (this.wish && self && received.doc.Room.Name === this.wish.name) {
        this.host.setState({ status: 'joined', self, room: received.doc.Room });
      }
    } else if (received.kind === 'Room') {
      // A Room update of the current room may change its PIN, which is needed to rejoin.
      const state = this.host.state();
      if (this.wish && state.status === 'joined' && received.doc.Name === this.wish.name) {
        const creds = received.doc.Credentials;
        if (creds && creds.PIN !== undefined) this.wish.pin = creds.PIN || undefined;
        this.host.setState({ status: 'joined', self: state.self, room: received.doc });
      }
    }
  }

  private join(): Promise<WelcomeDoc> {
    if (this.host.isReady() && this.wish) return this.sendHello(this.wish);
    return new Promise<WelcomeDoc>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async sendHello(room: RoomWish): Promise<WelcomeDoc> {
    const frame = frames.hello({
      Version: room.version ?? this.host.self()?.Version ?? '',
      Ua: room.ua ?? this.host.ua ?? 'spreed-bot',
      Name: room.name,
      Type: room.type,
      ...(room.pin ? { Credentials: { PIN: room.pin } } : {}),
    });
    try {
      const reply = await this.host.request(frame);
      if (reply.kind !== 'Welcome') throw new ChannelError('unexpected_reply', `Hello was answered with ${reply.kind}, expected Welcome`);
      return reply.doc;
    } catch (error) {
      if (error instanceof ChannelRequestError && error.code === 'authorization_not_required' && room.pin && this.wish === room) {
        this.host.log.info({ room: room.name }, 'channel: room has no PIN, joining without it');
        room.pin = undefined;
        return this.sendHello(room);
      }
      if (error instanceof ChannelError && error.code === 'connection_lost' && this.wish === room) return this.join();
      if (error instanceof ChannelRequestError && this.wish === room) {
        // A failed Hello leaves the session in no room (PROTOCOL-NOTES §2.3), and a rejected PIN
        // must not be retried on every reconnect: forget the room.
        this.wish = undefined;
        const state = this.host.state();
        if (state.status === 'joined') this.host.setState({ status: 'connected', self: state.self });
      }
      throw error;
    }
  }
}
