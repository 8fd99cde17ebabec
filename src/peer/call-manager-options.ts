import type { RTCPeerConnection } from 'werift';
import type { Logger } from '../util/logger.js';
import type { Call, CallMediaOptions } from './call.js';
import type { RedialOptions } from './conference-redial.js';
import type { CallManager } from './call-manager.js'; // for TSDoc links
import type { defaultCodecs, PeerCodecs } from './codecs.js';
import type { AnswerHandler, ringOnly } from './policy.js';
import type { Signaling } from './signaling.js';
import type { TokenConnection } from './token.js';

/** Options of {@link CallManager}. */
export interface CallManagerOptions {
  /** The signalling channel (a `Channel`, or anything with the same shape). */
  signaling: Signaling;
  /** @defaultValue `silentLogger` */
  logger?: Logger;
  /**
   * Decides about incoming normal Offers (not conference, not token, not AutoCall callbacks).
   * @defaultValue {@link ringOnly}: calls ring until `call.accept()` or the pickup timeout
   */
  answer?: AnswerHandler;
  /** Incoming calls left ringing this long get `Bye {Reason:"pickuptimeout"}`. @defaultValue `30_000` */
  pickupTimeoutMs?: number;
  /**
   * Outgoing calls not connected after this long are given up with `Bye {Reason:"abort"}`;
   * their state closes with reason `pickuptimeout`. @defaultValue `35_000`
   */
  ringTimeoutMs?: number;
  /**
   * Accept a new Offer on an established call (renegotiation). Off like the web client's default:
   * the call is hung up with `Bye {Reason:"unsupported"}`. @defaultValue `false`
   */
  renegotiation?: boolean;
  /** Local media of calls. @defaultValue audio sendrecv (nothing sent), video recvonly */
  media?: CallMediaOptions;
  /** Codecs per peer connection. @defaultValue {@link defaultCodecs} (Opus; VP8 + uppercase H264) */
  codecs?: PeerCodecs | (() => PeerCodecs);
  /** Called with every new peer connection (calls and token connections), e.g. to install REMB. */
  onPeerConnection?: (pc: RTCPeerConnection, owner: Call | TokenConnection) => void;
  /** Extra host addresses werift gathers. @defaultValue `['127.0.0.1']` (werift skips loopback otherwise) */
  iceAdditionalHostAddresses?: string[];
  /** AutoCall types the bot calls back for (a received Chat with `Status.AutoCall`). @defaultValue `['conference']` */
  autoCalls?: readonly string[];
  /** How long a callback after `requestAutoCall()` is accepted automatically. @defaultValue `60_000` */
  autoCallWindowMs?: number;
  /**
   * Send a Conference document when a call connects while ≥ 2 calls are connected, like the web
   * client (PROTOCOL-NOTES §4.1), so 1:1 calls merge into a conference. @defaultValue `true`
   */
  autoConference?: boolean;
  /**
   * Call a conference peer again when the call with it failed to connect (ICE or DTLS, on either
   * side); `false` hangs up for good like the web client. Only conference links, only while the
   * peer is still there. @defaultValue `{ attempts: 3, delayMs: 1000 }` (1 s, 2 s, 4 s)
   */
  redial?: RedialOptions | false;
}
