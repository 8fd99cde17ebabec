/**
 * The channeling client: one WebSocket to a Spreed WebRTC server as RxJS streams of documents.
 * @packageDocumentation
 */
export { Channel, type ChannelOptions, type ConnectOptions, type IceServer } from './channel.js';
export type { ChannelState, ChannelStatus, ConnectionFailure } from './state.js';
export type { ConnectionCause, ConnectionCauseKind } from './cause.js';
export { ChannelError, ChannelRequestError, type ChannelErrorCode } from './errors.js';
export { ofType } from './of-type.js';
export { entersState } from './enters-state.js';
export type { BackoffPolicy } from '../util/backoff.js';
export { linearBackoff, defaultBackoff } from '../util/backoff.js';
