import { errorDoc, selfDoc, statusDoc } from '../docs.js';
import { reply, type Handler } from './request.js';

/* Self, Status, Alive, Authentication, Sessions (PROTOCOL-NOTES §2.2, §2.8, §8). */

export const handleSelf: Handler = (request) => {
  reply(request, selfDoc(request.hub, request.session));
};

/** Stored verbatim, Rev + 1, broadcast to the others (never echoed); dropped when not in a room. */
export const handleStatus: Handler = ({ hub, session, doc }) => {
  if (!doc) return;
  const status: Record<string, unknown> | null = doc.Status ?? null;
  const picture = status?.buddyPicture;
  if (typeof picture === 'string' && picture.startsWith('data:')) {
    const path = hub.images.update(session.id, picture.slice(5));
    if (path !== '') status!.buddyPicture = `img:${path}`;
  }
  session.status = status;
  session.rev++;
  hub.broadcast(session, statusDoc(session));
};

/** Only the object form decodes; the inner document is echoed as it came. */
export const handleAlive: Handler = (request) => {
  const { doc } = request;
  if (!doc) return;
  reply(request, { Type: doc.Type ?? '', Alive: doc.Alive });
};

/** User accounts are not enabled here, so there is never a valid nonce. */
export const handleAuthentication: Handler = (request) => {
  if (!request.doc?.Authentication) {
    return reply(request, errorDoc('bad_request', 'message did not contain Authentication'));
  }
  reply(request, errorDoc('invalid_session_token', 'nonce validation failed'));
};

/**
 * `session` resolves a fresh `A`. `contact` behaves as on the real server with its default modules
 * (contacts on): its token would name a user id, but this server has no user accounts and never
 * mints contact tokens, so every token fails to decode, and the real server answers such a
 * non-coded failure with an empty `Data` object (PROTOCOL-NOTES §9), not an Error document.
 */
export const handleSessions: Handler = (request) => {
  const { hub, doc } = request;
  const query: { Type: string; Token: string } | undefined = doc?.Sessions ?? undefined;
  if (!query) return reply(request, errorDoc('bad_request', 'message did not contain Sessions'));
  switch (query.Type) {
    case 'contact':
      return reply(request, {});
    case 'session': {
      const attested = hub.secrets.decodeAttestation(query.Token);
      if ('error' in attested) return reply(request, errorDoc('bad_attestation', attested.error));
      const target = hub.sessions.get(attested.id);
      if (!target) return reply(request, errorDoc('no_such_session', 'cannot retrieve session'));
      const users = [target.entry('')];
      return reply(request, { Type: 'Sessions', Sessions: { Token: query.Token, Type: query.Type }, Users: users });
    }
    default:
      return reply(request, errorDoc('bad_request', 'unknown sessions request type'));
  }
};
