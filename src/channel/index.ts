/**
 * The channeling client: one WebSocket to a Spreed WebRTC server as RxJS streams of documents.
 * @packageDocumentation
 */
export { Channel, type ChannelOptions, type IceServer } from './channel.js';
export type { ChannelState, ChannelStatus } from './state.js';
export { ChannelError, ChannelRequestError, type ChannelErrorCode } from './errors.js';
export { ofType } from './of-type.js';
export { entersState } from './enters-state.js';
export type { BackoffPolicy } from '../util/backoff.js';
export { linearBackoff, defaultBackoff } from '../util/backoff.js';
