import type { ChatMessage, ChatStatus } from '../../protocol/index.js';
import type { Hub } from '../hub.js';
import type { Session } from '../session.js';
import type { Handler } from './request.js';

/*
 * Chat (PROTOCOL-NOTES §7): normalised to the Go structs (Message/Time/Status always present,
 * unknown Status sub-keys stripped, empty ones omitted), echoed to the sender unless NoEcho,
 * relayed with the server's RFC 3339 Time, and a "sent" status for unicasts with a Mid.
 */

function omitZero<T>(value: T | null | undefined): T | undefined {
  return value === null || value === undefined || (value as unknown) === 0 || (value as unknown) === '' ? undefined : value;
}

/** `DataChatStatus` with Go's omitempty on every field, or null. */
function normalizeStatus(status: ChatStatus | null | undefined): Record<string, unknown> | null {
  if (!status) return null;
  const geo = status.Geolocation;
  const contact = status.ContactRequest;
  return {
    Typing: omitZero(status.Typing),
    State: omitZero(status.State),
    Mid: omitZero(status.Mid),
    SeenMids: status.SeenMids && status.SeenMids.length > 0 ? status.SeenMids : undefined,
    FileInfo: status.FileInfo
      ? {
          id: status.FileInfo.id,
          chunks: status.FileInfo.chunks,
          name: status.FileInfo.name,
          size: status.FileInfo.size,
          type: status.FileInfo.type,
        }
      : undefined,
    Geolocation: geo
      ? {
          accuracy: omitZero(geo.accuracy),
          latitude: omitZero(geo.latitude),
          longitude: omitZero(geo.longitude),
          altitude: omitZero(geo.altitude),
          altitudeAccuracy: omitZero(geo.altitudeAccuracy),
        }
      : undefined,
    ContactRequest: contact
      ? { Id: contact.Id, Success: contact.Success ?? false, Userid: omitZero(contact.Userid), Token: omitZero(contact.Token) }
      : undefined,
    AutoCall: status.AutoCall ? { Id: status.AutoCall.Id, Type: status.AutoCall.Type } : undefined,
  };
}

function normalizeMessage(chat: ChatMessage, time: string): Record<string, unknown> {
  return {
    Message: chat.Message ?? '',
    Time: time,
    NoEcho: chat.NoEcho ? true : undefined,
    Mid: omitZero(chat.Mid),
    Status: normalizeStatus(chat.Status),
  };
}

/** Go's `time.RFC3339` in server-local time: `2017-04-13T18:47:53+02:00`, or `Z` for UTC. */
export function rfc3339(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
  );
}

function sentStatus(hub: Hub, session: Session, to: string, mid: string): void {
  const data = { To: to, Type: 'Chat', Chat: { Message: '', Time: '', Mid: mid, Status: { State: 'sent' } } };
  hub.unicast(session, session.id, data);
}

export const handleChat: Handler = ({ hub, session, doc }) => {
  const chat: ChatMessage | null | undefined = doc?.Chat;
  if (!chat) return;
  const to: string = doc.To;
  const type: string = doc.Type;
  if (!chat.NoEcho) hub.unicast(session, session.id, { To: to, Type: type, Chat: normalizeMessage(chat, chat.Time ?? '') });
  const relayed = { To: to, Type: type, Chat: normalizeMessage(chat, rfc3339()) };
  if (to === '') {
    hub.broadcast(session, relayed);
    return;
  }
  if (chat.Status?.ContactRequest) {
    // Contact requests need both sessions authenticated with user accounts, which this server does not have.
    hub.logger.debug({ from: session.id }, 'Chat ContactRequest without user accounts, dropped');
    return;
  }
  hub.unicast(session, to, relayed);
  if (chat.Mid) sentStatus(hub, session, to, chat.Mid);
};

