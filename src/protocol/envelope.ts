import type { DocumentKind, DocumentMap } from './documents.js';

/**
 * A validated received document with its envelope (`{Data, From, To, Iid, A}` on the wire).
 * `kind` is the classified document kind; `doc` is the typed `Data`.
 */
export type Received<K extends DocumentKind = DocumentKind> = K extends DocumentKind
  ? {
      readonly kind: K;
      readonly doc: DocumentMap[K];
      /** Sender session id; empty for server-generated documents (Conference-room docs). */
      readonly from: string;
      /** Recipient as stated by the server (own id, or a room id for server Conference docs). */
      readonly to: string;
      /** Echoed request id on direct replies. */
      readonly iid?: string;
      /** Session attestation of the sender. */
      readonly a?: string;
    }
  : never;

/** The raw envelope shape on the wire, server → client. */
export interface WireEnvelope {
  Data: unknown;
  From?: string;
  To?: string;
  Iid?: string;
  A?: string;
}
