import type { RoomDoc, SelfDoc } from '../protocol/index.js';

/** Connection state of a {@link Channel}, as a discriminated union on `status`. */
export type ChannelState =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; self: SelfDoc }
  | { status: 'joined'; self: SelfDoc; room: RoomDoc }
  | { status: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { status: 'closed'; reason: string };

/** One of the `status` values of {@link ChannelState}. */
export type ChannelStatus = ChannelState['status'];
