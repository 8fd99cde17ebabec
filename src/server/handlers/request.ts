import type { Hub } from '../hub.js';
import type { Session } from '../session.js';

/** One validated client frame being handled. */
export interface Request {
  readonly hub: Hub;
  readonly session: Session;
  /** The canonicalised inner document (see `parseClientFrame`), undefined when the frame had none. */
  readonly doc: any;
  readonly iid: string | undefined;
}

/** Handles one frame type. Never throws on client data; the caller logs anything unexpected. */
export type Handler = (request: Request) => void;

/** Sends a direct reply (From = own Id, Iid echoed). */
export function reply(request: Request, data: unknown): void {
  request.hub.reply(request.session, data, request.iid);
}
