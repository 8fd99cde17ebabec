import { GoMap } from '../json.js';
import type { Handler } from './request.js';

/*
 * Offer, Answer, Candidate, Bye and client Conference docs (PROTOCOL-NOTES §3.1, §4.1): relayed
 * only to their `To`, with the inner Type as sent (never checked) and the opaque payload as is.
 * Unknown recipients are dropped silently, and these types never get a reply, even with an Iid.
 */

const MAX_CONFERENCE_SIZE = 100;

function relay(kind: 'Offer' | 'Answer' | 'Candidate' | 'Bye'): Handler {
  return ({ hub, session, doc }) => {
    // Offer/Answer/Candidate without their payload are dropped; a Bye payload may be null.
    if (!doc || (kind !== 'Bye' && !doc[kind])) return;
    const payload = doc[kind] ? new GoMap(doc[kind]) : null;
    hub.unicast(session, doc.To, { Type: doc.Type, To: doc.To, [kind]: payload });
  };
}

export const handleOffer = relay('Offer');
export const handleAnswer = relay('Answer');
export const handleCandidate = relay('Candidate');
export const handleBye = relay('Bye');

/** Forwarded to each listed id except the sender; refused in Conference-type rooms and above 100 ids. */
export const handleConference: Handler = ({ hub, session, doc }) => {
  if (!doc) return;
  if (hub.rooms.get(session.roomId)?.isConference) {
    hub.logger.debug({ from: session.id }, 'client Conference doc in a server-managed conference room, dropped');
    return;
  }
  const ids: string[] = doc.Conference ?? [];
  if (ids.length > MAX_CONFERENCE_SIZE) {
    hub.logger.debug({ from: session.id, size: ids.length }, 'Conference list above 100 ids, dropped');
    return;
  }
  const data = { Id: doc.Id, Type: doc.Type, Conference: doc.Conference ?? null };
  for (const id of ids) if (id !== session.id) hub.unicast(session, id, data);
};
