import type { ErrorCode } from '../protocol/index.js';
import { CodedError } from '../util/errors.js';

/** Why a channel operation failed (not a server error; those are {@link ChannelRequestError}). */
export type ChannelErrorCode =
  /** The offline queue is full: wait for `entersState(channel, 'joined')` or raise `maxQueue`. */
  | 'queue_full'
  /** The channel was closed: create a new Channel. */
  | 'closed'
  /** No reply within the request timeout. */
  | 'timeout'
  /** Hello, Self and Room are never queued: wait until the channel is connected. */
  | 'not_connected'
  /** The socket dropped after the request was written; the reply cannot arrive any more. */
  | 'connection_lost'
  /**
   * The reconnect policy gave up, or the first connect did (timeout, or a permanent cause with
   * `failFast`); the message names the URL and the cause, and `cause` is the `ConnectionCause`.
   */
  | 'connect_failed'
  /** An AbortSignal fired. */
  | 'aborted'
  /** The server answered with a document of an unexpected type. */
  | 'unexpected_reply'
  /** The `url` option is not a ws:// or wss:// URL. */
  | 'invalid_url';

/** An error of the channel itself, with a `code` callers can switch on. */
export class ChannelError extends CodedError<ChannelErrorCode> {
  override readonly name = 'ChannelError';
}

const hints: Record<string, string> = {
  authorization_required: 'the room has a PIN: pass `pin` to hello()',
  invalid_credentials: 'the PIN is wrong: check it',
  authorization_not_required: 'the room has no PIN: call hello() without `pin`',
  not_in_room: 'join a room with hello() first, and use its exact name',
  default_room_disabled: 'the server does not allow the default room: pass a room name',
  room_join_requires_account: 'the server wants an authenticated user: authenticate first',
  bad_request: 'the request was malformed: this is a bug in the caller',
};

/** The server answered a request with an Error document (PROTOCOL-NOTES §9). */
export class ChannelRequestError extends Error {
  override readonly name = 'ChannelRequestError';
  /** The server's message text, unchanged. */
  readonly serverMessage: string;
  constructor(
    /** The server's error code, e.g. `invalid_credentials`. */
    readonly code: ErrorCode,
    serverMessage: string,
    /** Type of the request that failed, e.g. `Hello`. */
    readonly request: string,
    options?: { cause?: unknown },
  ) {
    const hint = hints[code];
    super(`${request} failed: ${code}${serverMessage ? ` (${serverMessage})` : ''}${hint ? `; ${hint}` : ''}`, options);
    this.serverMessage = serverMessage;
  }
}
