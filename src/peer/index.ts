/**
 * Peer layer: werift peer connections for calls, conferences and token connections, driven by
 * signalling documents.
 *
 * ```ts
 * const calls = new CallManager({ signaling: channel, answer: answerPolicy({ kind: 'everyone' }) });
 * calls.tracks$.subscribe((track) => recorder.add(track));
 * const call = calls.call(peerId);
 * await call.waitFor('connected');
 * call.sendTalking(true);
 * ```
 * @packageDocumentation
 */
export { CallManager, type CallManagerOptions } from './call-manager.js';
export { Call, type CallState, type CallCloseReason, type CallMediaOptions, type MediaDirection, type DataChannelDocument } from './call.js';
export { TokenConnection, tokenMatches, type TokenMatcher, type TokenRegistration } from './token.js';
export type { LinkState, TokenKeys } from './peer-link.js';
export { raiseReceiveBuffers, RECEIVE_BUFFER_BYTES } from './receive-buffers.js';
export { answerPolicy, decideAnswer, ringOnly, type AnswerContext, type AnswerDecision, type AnswerHandler, type AnswerPolicy } from './policy.js';
export type { RedialOptions } from './conference-redial.js';
export { decideConference, newConferenceId, type ConferenceDecision, type ConferenceDocInput } from './conference.js';
export { autoCallStatus, autoCallRequestFrame, autoCallRequestOf, supportsAutoCall, type AutoCallStatusOptions } from './autocall.js';
export { defaultCodecs, h264Codec, cloneCodecs, type PeerCodecs } from './codecs.js';
export { fromCandidateMap, toCandidateMap, type IceCandidateInit } from './candidates.js';
export type { RemoteTrack, RemoteTrackCodec } from './remote-track.js';
export type { Signaling, IceServer } from './signaling.js';
export { PeerError, type PeerErrorCode } from './errors.js';
