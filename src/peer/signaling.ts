import type { Observable } from 'rxjs';
import type { OutgoingFrame, Received } from '../protocol/index.js';

/** An ICE server as werift's `RTCPeerConnection` takes it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/**
 * What the peer layer needs from the signalling channel. `Channel` (src/channel) satisfies it
 * structurally; tests may use an in-memory hub.
 */
export interface Signaling {
  /** Own session id (from the latest Self), undefined before the first Self. */
  readonly id: string | undefined;
  /** Validated incoming documents. */
  readonly documents$: Observable<Received>;
  /** Sends one frame (fire and forget). */
  send(frame: OutgoingFrame): void;
  /** TURN/STUN servers from the current Self; `[]` when there are none. */
  iceServers(): IceServer[];
}
