import type { SessionStatus } from '../protocol/index.js';

/** Someone else in the room, as derived from Welcome/Joined/Status/Users documents. */
export interface Participant {
  /** Session id (opaque). */
  readonly id: string;
  /** User agent from Hello, e.g. `Chrome 156`; `''` when unknown. */
  readonly ua: string;
  /** Latest session status object, `null` until one arrived. */
  readonly status: SessionStatus | null;
  /** Revision of the session (Hello, Status and Authentication each add 1); restarts on resume. */
  readonly rev: number;
  /** Authenticated user id, when users are enabled. */
  readonly userid?: string;
  /** `status.displayName`, or the first 8 characters of the id. */
  readonly displayName: string;
  /** When this side first saw the participant (ms since epoch). */
  readonly joinedAt: number;
}

/** Someone left the room: `soft` for Leave or a room switch, `hard` for a disconnect. */
export interface LeftEvent {
  id: string;
  status: 'soft' | 'hard';
  /** The participant as last known, when it was known. */
  participant?: Participant;
}

/** `status.displayName` when it is a non-empty string, else a short prefix of the id. */
export function displayNameOf(id: string, status: SessionStatus | null | undefined): string {
  const name = status?.displayName;
  return typeof name === 'string' && name.trim() !== '' ? name.slice(0, 256) : id.slice(0, 8);
}
