import { errorDoc, joinedDoc, leftDoc, roomDoc, roomUsers } from '../docs.js';
import type { Hub } from '../hub.js';
import { encodeEnvelope } from '../json.js';
import type { Session } from '../session.js';
import { reply, type Handler, type Request } from './request.js';

/*
 * Hello, Room, Leave, Users (PROTOCOL-NOTES §2.3–§2.5, §4.3, §8.2), in the order the Go server
 * does things: Ua update, soft Left from a different old room, join checks, Joined to the
 * others, Welcome reply, then the server Conference doc in Conference-type rooms.
 */

/** Leaves the current room with a Left of the given status to the others. */
export function leaveRoom(hub: Hub, session: Session, status: 'soft' | 'hard'): void {
  if (!session.hello) return;
  const room = hub.rooms.get(session.roomId);
  hub.rooms.leave(session.roomId, session);
  hub.broadcastTo(room, session, leftDoc(session, status));
  session.hello = false;
}

/** Drops the room entry a resumed session left behind (the real server leaks it; peers see no Left either way). */
export function dropResumedEntry(hub: Hub, session: Session): void {
  const old = session.resumedFrom;
  if (!old) return;
  session.resumedFrom = undefined;
  hub.rooms.leave(old.roomId, old);
}

/** In Conference-type rooms with ≥2 members: `{Id,Type,Conference}` to all members, To = room id, no From/A. */
export function sendConferenceRoomUpdate(hub: Hub, session: Session): void {
  const room = hub.rooms.get(session.roomId);
  if (!room || !room.isConference || room.members.size < 2) return;
  const data = { Id: room.id, Type: 'Conference', Conference: [...room.members.keys()] };
  room.broadcast(encodeEnvelope({ Data: data, To: room.id }));
}

function join(request: Request): unknown {
  const { hub, session, doc } = request;
  session.ua = doc.Ua;
  session.rev++;
  const name: string = doc.Name !== '' ? doc.Name : (doc.Id ?? '');
  const type: string = doc.Type;
  const credentials: { PIN?: string } | null = doc.Credentials ?? null;
  const roomId = hub.rooms.roomId(name, type);
  if (session.hello && session.roomId !== roomId) leaveRoom(hub, session, 'soft');
  dropResumedEntry(hub, session);
  const fail = (code: string, message: string) => {
    // A failed re-Hello to the same room leaves the session out of it (the Go server keeps a stale entry).
    if (session.hello) hub.rooms.leave(session.roomId, session);
    session.hello = false;
    return errorDoc(code, message);
  };
  if (roomId === hub.rooms.roomId('', '') && !hub.options.defaultRoomEnabled) {
    return fail('default_room_disabled', 'The default room is not enabled');
  }
  const room = hub.rooms.getOrCreate(name, type, credentials?.PIN);
  if (room.pin === undefined && credentials) {
    hub.rooms.touch(room);
    return fail('authorization_not_required', 'No credentials may be provided for this room');
  }
  if (room.pin !== undefined) {
    if (!credentials) return fail('authorization_required', 'Valid credentials are required to join this room');
    if (!room.pinMatches(credentials.PIN ?? '')) return fail('invalid_credentials', 'The provided credentials are incorrect');
  }
  hub.rooms.join(room, session);
  session.hello = true;
  session.roomId = room.id;
  hub.broadcastTo(room, session, joinedDoc(session));
  return { Type: 'Welcome', Room: roomDoc(room), Users: roomUsers(room) };
}

export const handleHello: Handler = (request) => {
  if (!request.doc) return reply(request, errorDoc('bad_request', 'message did not contain Hello'));
  const result = join(request);
  reply(request, result);
  if (request.session.hello) sendConferenceRoomUpdate(request.hub, request.session);
};

export const handleRoom: Handler = (request) => {
  const { hub, session, doc } = request;
  if (!doc) return reply(request, errorDoc('bad_request', 'message did not contain Room'));
  const room = hub.rooms.get(session.roomId);
  if (!session.hello || !room || session.roomId !== hub.rooms.roomId(doc.Name, doc.Type ?? '')) {
    return reply(request, errorDoc('not_in_room', 'Cannot update other rooms'));
  }
  // Credentials come back exactly as sent (PIN included); absent or null changes nothing.
  const credentials: { PIN: string } | null = doc.Credentials ? { PIN: doc.Credentials.PIN ?? '' } : null;
  if (credentials) room.pin = credentials.PIN !== '' ? credentials.PIN : undefined;
  const updated = roomDoc(room, credentials);
  hub.broadcastTo(room, session, updated);
  reply(request, updated);
  sendConferenceRoomUpdate(hub, session);
};

export const handleLeave: Handler = ({ hub, session }) => {
  leaveRoom(hub, session, 'soft');
};

export const handleUsers: Handler = (request) => {
  const { hub, session } = request;
  if (!session.hello) return reply(request, errorDoc('not_in_room', 'Cannot list users without a current room'));
  reply(request, { Type: 'Users', Users: roomUsers(hub.rooms.get(session.roomId)) });
};
