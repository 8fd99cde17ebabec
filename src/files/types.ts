import type { Observable } from 'rxjs';

export { fromWeriftDataChannel, type WeriftChannelOptions, type ChannelOwner } from './werift-channel.js';

/**
 * The part of a data channel the file-sharing layer uses: the `"default"` channel of a token peer
 * connection. A werift `RTCDataChannel` becomes one through {@link fromWeriftDataChannel}; tests may
 * wrap it again (for example to corrupt chunks).
 *
 * Binary messages arrive as `Buffer`, text as `string` (werift has no `binaryType`).
 */
export interface ChunkChannel {
  /** True until the channel closed (locally or remotely). */
  readonly isOpen: boolean;
  /**
   * Queues one message. Throws when the channel is closed or the message is larger than the peer's
   * max message size (65,536 bytes on werift); callers treat a throw as a dead channel.
   */
  send(data: string | Buffer): void;
  /** Bytes queued locally and not yet handed to SCTP. */
  readonly bufferedAmount: number;
  /** `bufferedAmountLow$` fires when {@link bufferedAmount} drops to or below this. */
  bufferedAmountLowThreshold: number;
  /** Every received message: `Buffer` for binary, `string` for text. Completes on close. */
  readonly message$: Observable<string | Buffer>;
  /** Fires when {@link bufferedAmount} crosses {@link bufferedAmountLowThreshold} downwards. */
  readonly bufferedAmountLow$: Observable<void>;
  /** Emits once and completes when the channel is closed, by either side; replays to late subscribers. */
  readonly closed$: Observable<void>;
  /** Closes the channel and whatever connection owns it. Idempotent. */
  close(): void;
}

/**
 * Opens token peer connections for downloads. The peer layer implements it with token Offers
 * (`_token` = the FileInfo id, a fresh `_id` per call) and returns the open `"default"` channel.
 */
export interface TokenConnector {
  /**
   * Opens one new token connection to `peerId` for `token` and resolves with its open `"default"`
   * channel. Rejects when the connection cannot be set up; `signal` aborts a pending open.
   */
  open(peerId: string, token: string, signal?: AbortSignal): Promise<ChunkChannel>;
}

/** What the server and fetcher know about the remote end of a connection, for logs and policy. */
export interface PeerRef {
  /** Session id of the peer. */
  id: string;
  /** Display name from the peer's Status, when known. */
  displayName?: string;
}
