import { randomBytes } from 'node:crypto';
import { frames, type ChatDoc, type ChatFrame, type Received, type SessionStatus } from '../protocol/index.js';

/**
 * AutoCall (spec "Request an automatic callback"). The spec only says the session status has
 * "autoCalls" set; we advertise the callback types the bot honours as an array of strings:
 * `{displayName, buddyPicture: null, message: null, autoCalls: ["conference"]}`.
 * The stock web client neither sends nor handles AutoCall (PROTOCOL-NOTES §4.4): this is for
 * bots and custom clients.
 */
export interface AutoCallStatusOptions {
  displayName: string;
  /** Callback types the bot honours. @defaultValue `["conference"]` */
  autoCalls?: readonly string[];
  buddyPicture?: string | null;
  message?: string | null;
  /** Further opaque status keys. */
  extra?: Record<string, unknown>;
}

/** Builds the bot's session Status advertising `autoCalls`. */
export function autoCallStatus(options: AutoCallStatusOptions): SessionStatus {
  return {
    ...(options.extra ?? {}),
    displayName: options.displayName,
    buddyPicture: options.buddyPicture ?? null,
    message: options.message ?? null,
    autoCalls: [...(options.autoCalls ?? ['conference'])],
  };
}

/** True when a session Status advertises AutoCall support for `type` (the shape of {@link autoCallStatus}). */
export function supportsAutoCall(status: unknown, type = 'conference'): boolean {
  if (!status || typeof status !== 'object') return false;
  const value = (status as Record<string, unknown>).autoCalls;
  return Array.isArray(value) ? value.includes(type) : value === true;
}

/**
 * The Chat asking `peerId` to call us back: `Status.AutoCall {Type, Id}`, sent privately with a
 * 32-hex Mid and `NoEcho`.
 */
export function autoCallRequestFrame(peerId: string, conferenceId: string, type = 'conference', message = 'Call me back'): ChatFrame {
  return frames.chat(peerId, {
    Mid: randomBytes(16).toString('hex'),
    Message: message,
    NoEcho: true,
    Status: { AutoCall: { Type: type, Id: conferenceId } },
  });
}

/** Extracts an AutoCall request from a received Chat (private or group), or undefined. */
export function autoCallRequestOf(received: Received<'Chat'>): { peerId: string; type: string; id: string } | undefined {
  const doc: ChatDoc = received.doc;
  const auto = doc.Chat.Status?.AutoCall;
  if (!auto || !received.from) return undefined;
  return { peerId: received.from, type: auto.Type, id: auto.Id };
}
