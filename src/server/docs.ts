import type { Hub } from './hub.js';
import type { Room } from './rooms.js';
import type { Session } from './session.js';

/*
 * Documents the server writes itself, with keys in the order of the Go structs (data.go), since
 * that is the order clients see on the wire.
 */

export const API_VERSION = 1.4;

export function errorDoc(code: string, message: string): { Type: 'Error'; Code: string; Message: string } {
  return { Type: 'Error', Code: code, Message: message };
}

export function selfDoc(hub: Hub, session: Session): Record<string, unknown> {
  const { options, secrets } = hub;
  return {
    Type: 'Self',
    Id: session.id,
    Sid: session.sid,
    Userid: '',
    Suserid: '',
    Token: secrets.encodeToken({ id: session.id, sid: session.sid }),
    Version: options.version,
    ApiVersion: API_VERSION,
    Turn: secrets.turnData(session.id, options.turnSecret, options.turnUris),
    Stun: [...options.stunUris],
  };
}

/** `Joined` to the others in the room: no Rev (PROTOCOL-NOTES §2.5). */
export function joinedDoc(session: Session): Record<string, unknown> {
  const { Rev: _rev, ...entry } = session.entry('Joined');
  return entry;
}

export function leftDoc(session: Session, status: 'soft' | 'hard'): Record<string, unknown> {
  return { Type: 'Left', Id: session.id, Status: status };
}

/** `Status` to the others in the room: no Ua (PROTOCOL-NOTES §8.1). */
export function statusDoc(session: Session): Record<string, unknown> {
  const { Ua: _ua, ...entry } = session.entry('Status');
  return entry;
}

/** Room doc as in Welcome: `Credentials:null`. */
export function roomDoc(room: Room, credentials: { PIN: string } | null = null): Record<string, unknown> {
  return { Type: room.type, Name: room.name, Credentials: credentials };
}

/** `Type:"Online"` entries of everyone in the room, self included, capped like the real server. */
export function roomUsers(room: Room | undefined): unknown[] {
  const users: unknown[] = [];
  if (!room) return users;
  for (const member of room.members.values()) {
    users.push(member.entry('Online'));
    if (users.length > 5000) break;
  }
  return users;
}
