import { timingSafeEqual } from 'node:crypto';
import type { ResolvedOptions } from './options.js';
import type { Session } from './session.js';

/** The room type whose rooms get server-managed Conference docs (PROTOCOL-NOTES §4.3). */
export const CONFERENCE_ROOM_TYPE = 'Conference';
const DEFAULT_ROOM_TYPE = 'Room';

/** One room: its members by session id, its type and optional PIN. */
export class Room {
  readonly members = new Map<string, Session>();
  expiry: NodeJS.Timeout | undefined;

  constructor(
    /** `<type>:<name>`, also the `Id`/`To` of server Conference docs. */
    readonly id: string,
    readonly name: string,
    readonly type: string,
    public pin: string | undefined,
  ) {}

  get isConference(): boolean {
    return this.type === CONFERENCE_ROOM_TYPE;
  }

  /** Sends a frame to every member except `exceptId`. */
  broadcast(frame: string, exceptId?: string): void {
    for (const [id, member] of this.members) if (id !== exceptId) member.sendFrame(frame);
  }

  /** Constant-time PIN check. */
  pinMatches(pin: string): boolean {
    if (this.pin === undefined) return false;
    const a = Buffer.from(this.pin);
    const b = Buffer.from(pin);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/**
 * All rooms. Rooms are created on first join and forgotten (PIN included) once they have been
 * empty and idle for `emptyRoomTtlMs` (PROTOCOL-NOTES §2.4).
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly options: ResolvedOptions) {}

  get size(): number {
    return this.rooms.size;
  }

  all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  /** Type of a room: `Hello.Type` verbatim when non-empty, else the first matching `roomTypes` entry, else "Room". */
  typeFor(name: string, type: string): string {
    if (type !== '') return type;
    for (const [re, roomType] of this.options.roomTypes) {
      re.lastIndex = 0;
      if (re.test(name)) return roomType;
    }
    return DEFAULT_ROOM_TYPE;
  }

  roomId(name: string, type: string): string {
    return `${this.typeFor(name, type)}:${name}`;
  }

  get(id: string | undefined): Room | undefined {
    return id === undefined ? undefined : this.rooms.get(id);
  }

  /** Returns the room, creating it (protected by `pin` when non-empty) if needed. */
  getOrCreate(name: string, type: string, pin: string | undefined): Room {
    const id = this.roomId(name, type);
    let room = this.rooms.get(id);
    if (!room) {
      room = new Room(id, name, this.typeFor(name, type), pin ? pin : undefined);
      this.rooms.set(id, room);
      this.touch(room);
    }
    return room;
  }

  join(room: Room, session: Session): void {
    room.members.set(session.id, session);
    this.touch(room);
  }

  /** Removes a member if it is still the given session object (a resumed session may have replaced it). */
  leave(roomId: string | undefined, session: Session): void {
    const room = this.get(roomId);
    if (!room) return;
    if (room.members.get(session.id) === session) room.members.delete(session.id);
    this.touch(room);
  }

  /** Records activity: an empty room expires `emptyRoomTtlMs` after its last activity. */
  touch(room: Room): void {
    if (room.expiry) clearTimeout(room.expiry);
    room.expiry = undefined;
    if (room.members.size > 0) return;
    room.expiry = setTimeout(() => {
      if (room.members.size === 0 && this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    }, this.options.emptyRoomTtlMs);
    room.expiry.unref();
  }

  close(): void {
    for (const room of this.rooms.values()) if (room.expiry) clearTimeout(room.expiry);
    this.rooms.clear();
  }
}
