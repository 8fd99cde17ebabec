import type { Received, SdpMap } from '../protocol/index.js';
import type { AutoCallHandler } from './autocall-handler.js';
import type { ConferenceRedial } from './conference-redial.js';
import type { ConferenceState } from './conference-state.js';
import type { ManagerCore } from './manager-core.js';
import type { TokenRegistry } from './token-registry.js';

/** Where {@link routeDocument} hands documents to. */
export interface DocumentRoutes {
  core: ManagerCore;
  tokens: TokenRegistry;
  conference: ConferenceState;
  autoCalls: AutoCallHandler;
  redial: ConferenceRedial;
  /** An incoming Offer (calls and token connections). */
  onOffer(from: string, offer: SdpMap): void;
}

/**
 * Routes one received signalling document to the call, token connection, conference or AutoCall
 * handling it concerns, and learns display names. Does nothing once the manager is closed.
 */
export function routeDocument(routes: DocumentRoutes, received: Received): void {
  const { core } = routes;
  if (core.closed) return;
  switch (received.kind) {
    case 'Offer':
      return routes.onOffer(received.from, received.doc.Offer);
    case 'Answer': {
      const map = received.doc.Answer;
      if (map._token !== undefined) routes.tokens.handleAnswer(received.from, map._token, map);
      else void core.callMap.get(received.from)?.handleAnswer(map);
      return;
    }
    case 'Candidate': {
      const map = received.doc.Candidate;
      if (map._token !== undefined) routes.tokens.handleCandidate(received.from, map._token, map);
      else core.callMap.get(received.from)?.handleCandidate(map);
      return;
    }
    case 'Bye': {
      const call = core.callMap.get(received.from);
      if (call) call.finish(received.doc.Bye.Reason ?? 'hangup', 'remote'); // never answer a Bye
      return;
    }
    case 'Left':
      if (received.doc.Status === 'hard') onPeerGone(routes, received.doc.Id);
      return;
    case 'Conference':
      return routes.conference.onConference(received);
    case 'Chat':
      return routes.autoCalls.onChat(received);
    case 'Welcome': {
      const doc = received.doc;
      routes.conference.onWelcome(doc);
      for (const u of doc.Users) core.learnName(u.Id, u.Status);
      return;
    }
    case 'Joined':
      return core.learnName(received.doc.Id, received.doc.Status);
    case 'Status':
      if (received.doc.Id) core.learnName(received.doc.Id, received.doc.Status);
      return;
    default:
      return;
  }
}

/** A peer left for good: end its call and token connections, forget its name. */
function onPeerGone(routes: DocumentRoutes, peerId: string): void {
  routes.redial.onPeerGone(peerId);
  routes.core.callMap.get(peerId)?.finish('left', 'remote');
  routes.tokens.closePeer(peerId);
  routes.core.names.delete(peerId);
}
