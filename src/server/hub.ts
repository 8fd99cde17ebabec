import type { Logger } from '../util/logger.js';
import { ImageCache } from './images.js';
import { encodeEnvelope } from './json.js';
import type { ResolvedOptions } from './options.js';
import { RoomRegistry, type Room } from './rooms.js';
import type { Secrets } from './secrets.js';
import type { Session } from './session.js';

/** Counters for tests and monitoring. */
export interface ServerStats {
  /** Text frames received. */
  framesIn: number;
  /** Inbound frames dropped (malformed, unknown type, type mismatch, …). */
  framesDropped: number;
  /** Times reading was paused because a client exceeded the inbound rate limit. */
  rateLimitPauses: number;
  /** Outbound frames dropped because a client's queue was full. */
  framesOverflowed: number;
}

/**
 * Shared state of one server: connected sessions by Id, rooms, secrets, and the three ways a
 * document travels (PROTOCOL-NOTES §1.2): direct reply, unicast relay, room broadcast.
 */
export class Hub {
  /** Connected sessions by Id (a resumed Id maps to the newest session). */
  readonly sessions = new Map<string, Session>();
  /** The live connection of each session, to drop it when a resume takes over. */
  readonly connections = new Map<Session, { terminate(): void }>();
  readonly rooms: RoomRegistry;
  readonly images = new ImageCache();
  readonly stats: ServerStats = { framesIn: 0, framesDropped: 0, rateLimitPauses: 0, framesOverflowed: 0 };

  constructor(
    readonly options: ResolvedOptions,
    readonly secrets: Secrets,
    readonly logger: Logger,
  ) {
    this.rooms = new RoomRegistry(options);
  }

  /** Direct reply: From = own Id, Iid echoed, no A. */
  reply(session: Session, data: unknown, iid?: string): void {
    session.send({ Data: data, From: session.id, Iid: iid });
  }

  /** Unicast relay with From, To and the sender's A; an unknown or offline `to` is dropped silently. */
  unicast(from: Session, to: string, data: unknown): void {
    const target = this.sessions.get(to);
    if (!target) {
      this.logger.debug({ from: from.id, to }, 'unicast target not connected, dropped');
      return;
    }
    target.send({ Data: data, From: from.id, To: to, A: from.attest() });
  }

  /** Broadcast to the sender's room (excluding the sender) with From and A; nothing when not joined. */
  broadcast(from: Session, data: unknown): void {
    if (!from.hello) return;
    this.broadcastTo(this.rooms.get(from.roomId), from, data);
  }

  /** Broadcast from `from` to a given room, excluding `from`. */
  broadcastTo(room: Room | undefined, from: Session, data: unknown): void {
    if (!room) return;
    room.broadcast(encodeEnvelope({ Data: data, From: from.id, A: from.attest() }), from.id);
    this.rooms.touch(room);
  }
}
