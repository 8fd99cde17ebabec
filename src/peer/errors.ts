import { CodedError } from '../util/errors.js';

/** Codes of {@link PeerError}. */
export type PeerErrorCode = 'closed' | 'timeout' | 'aborted' | 'no-session' | 'negotiation-failed' | 'refused';

/** Errors of the peer layer: a `code` callers can switch on and the underlying `cause`. */
export class PeerError extends CodedError<PeerErrorCode> {
  override readonly name = 'PeerError';
}
