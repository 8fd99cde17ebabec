import type { RoomDoc, SelfDoc } from '../protocol/index.js';
import type { ConnectionCause } from './cause.js';

/**
 * Which failure led to a `reconnecting` state:
 * - `'connect'`: the channel has never been connected and this attempt failed ("could not connect");
 * - `'reconnect'`: it was connected before, and an attempt to come back failed;
 * - `'lost'`: an established connection (Self received) dropped.
 */
export type ConnectionFailure = 'connect' | 'reconnect' | 'lost';

/**
 * Connection state of a {@link Channel}, as a discriminated union on `status`.
 *
 * - `connecting`: attempt `attempt` (0 for the first connect) is under way.
 * - `connected`: the socket is open and its Self arrived; `joined` once Hello was answered.
 * - `reconnecting`: an attempt failed or the connection dropped; attempt `attempt` starts at
 *   `nextRetryAt` (epoch ms), `delayMs` from now. `cause` says why (code `ECONNREFUSED`,
 *   `ENOTFOUND`, `HTTP 404`, `EPROTO`, `timeout`, …), `failure` whether the channel had ever
 *   connected; `reason` is `cause.message`.
 * - `closed`: close() was called or the reconnect policy gave up (final).
 */
export type ChannelState =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; self: SelfDoc }
  | { status: 'joined'; self: SelfDoc; room: RoomDoc }
  | {
      status: 'reconnecting';
      attempt: number;
      delayMs: number;
      nextRetryAt: number;
      failure: ConnectionFailure;
      cause: ConnectionCause;
      reason: string;
    }
  | { status: 'closed'; reason: string };

/** One of the `status` values of {@link ChannelState}. */
export type ChannelStatus = ChannelState['status'];
