import type { Participant } from '../room/index.js';

/**
 * Bots recognise each other by their session Status: a spreed-bot publishes `bot: true` next to
 * its `displayName` (the web client ignores Status keys it does not know, and the server stores
 * the object verbatim). Plugins' `ctx.chat$` leaves out messages from such sessions, so two bots
 * in a room never answer each other forever (`ctx.allChat$` has them).
 */
export const BOT_STATUS_KEY = 'bot';

/** True when a session Status marks its owner as a bot. */
export function isBotStatus(status: unknown): boolean {
  return typeof status === 'object' && status !== null && (status as Record<string, unknown>)[BOT_STATUS_KEY] === true;
}

/** True when the participant's Status marks it as a bot. */
export function isBot(participant: Pick<Participant, 'status'> | undefined): boolean {
  return isBotStatus(participant?.status);
}
