import { randomInt } from 'node:crypto';

/**
 * Conference rules of the stock web client (PROTOCOL-NOTES §4), as pure functions.
 */

/** The inputs of the decision about a received Conference document. */
export interface ConferenceDocInput {
  /** Own session id. */
  ownId: string;
  /** `From` of the envelope; `''` for server-generated documents (Conference-type rooms). */
  from: string;
  /** Conference `Id`. */
  id: string;
  /** Conference list. */
  ids: readonly string[];
  /** Peers we currently have (non-closed) calls with. */
  callPeers: readonly string[];
  /** Our current conference id, if any. */
  currentConferenceId: string | undefined;
  /** True in a Conference-type room (or when the document came from the server). */
  conferenceRoom: boolean;
}

/** Outcome: ignore, or adopt `conferenceId` and send conference Offers to `offerTo`. */
export type ConferenceDecision = { action: 'ignore'; why: string } | { action: 'join'; conferenceId: string; offerTo: string[] };

/**
 * Decides what to do with a received Conference document, exactly like the web client:
 * no calls and not a conference room → ignore; one call → only from that call's peer and with
 * that peer in the list (or in a conference room); more calls → ignore when a different
 * conference id is set (or none is set outside conference rooms). Then offer to every listed id
 * greater than ours (plain `<`, UTF-16 code-unit order; never `localeCompare`) without a call.
 */
export function decideConference(input: ConferenceDocInput): ConferenceDecision {
  const { ownId, from, id, ids, callPeers, currentConferenceId, conferenceRoom } = input;
  const calls = callPeers.length;
  if (calls === 0 && !conferenceRoom) return { action: 'ignore', why: 'no calls and not a conference room' };
  if (calls === 1 && !conferenceRoom) {
    const peer = callPeers[0];
    if (from !== peer || !ids.includes(from)) return { action: 'ignore', why: 'not from the sole call peer, or peer not listed' };
  } else if (calls > 1) {
    if (currentConferenceId !== undefined && currentConferenceId !== id) return { action: 'ignore', why: 'another conference is active' };
    if (currentConferenceId === undefined && !conferenceRoom) return { action: 'ignore', why: 'no conference id set' };
  }
  const offerTo = ids.filter((peer) => ownId < peer && !callPeers.includes(peer));
  return { action: 'join', conferenceId: id, offerTo: [...new Set(offerTo)] };
}

let conferenceCounter = 0;

/**
 * A new conference id like the web client makes it: `<ownId>_<counter>_<random int < 1e16>`
 * (not hashed; PROTOCOL-NOTES §4.1, which wins over the spec's "hash it").
 */
export function newConferenceId(ownId: string): string {
  conferenceCounter += 1;
  const random = randomInt(0, 2 ** 47) * 71 + randomInt(0, 71); // < 1e16, from a CSPRNG
  return `${ownId}_${conferenceCounter}_${random}`;
}
