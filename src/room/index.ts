/**
 * Who is in the room, derived from a channel's documents.
 * @packageDocumentation
 */
export { RoomState } from './room-state.js';
export { displayNameOf, type Participant, type LeftEvent } from './participant.js';
