import { encodeEnvelope, GoMap, type Envelope } from './json.js';
import { ATTESTATION_REFRESH_MS, type Secrets } from './secrets.js';

/** Where a session's frames go: its WebSocket connection. */
export interface Outbound {
  /** Queues one encoded frame; drops it when the outbound queue is full or the socket is gone. */
  send(frame: string): void;
}

/** A user entry as in Welcome/Users (`Type:"Online"`), Sessions (`Type:""`), Joined and Status docs. */
export interface UserEntry {
  Type: string;
  Id: string;
  Ua?: string;
  Rev?: number;
  Prio: number;
  Status?: unknown;
}

/**
 * Server-side state of one session (PROTOCOL-NOTES §2, §8): identity, Ua, Status and its Rev,
 * room membership, and the cached `A` attestation. A resumed session is a new Session object
 * with the same Id and Sid: Ua, Status, Rev and membership start over.
 */
export class Session {
  ua = '';
  /** Incremented by Hello, Status and Authentication. */
  rev = 0;
  /** The opaque session Status object; null until a Status doc was sent. */
  status: Record<string, unknown> | null = null;
  readonly prio = 100;
  /** True while joined to `roomId` (the Go server's `Hello` flag). */
  hello = false;
  roomId: string | undefined;
  /** Set when a resume with this Id took over: closing then sends no Left. */
  replaced = false;
  closed = false;
  /** The session this one resumed; its stale room entry is removed on this one's next Hello or close. */
  resumedFrom: Session | undefined;
  private attestation: { token: string; refreshAt: number } | undefined;

  constructor(
    readonly id: string,
    readonly sid: string,
    private readonly secrets: Secrets,
    private readonly outbound: Outbound,
  ) {}

  /** The session's current `A`, re-minted lazily once older than 180 s. */
  attest(): string {
    const now = Date.now();
    if (!this.attestation || this.attestation.refreshAt < now) {
      this.attestation = { token: this.secrets.encodeAttestation(this.id), refreshAt: now + ATTESTATION_REFRESH_MS };
    }
    return this.attestation.token;
  }

  /** Sends an already encoded frame. */
  sendFrame(frame: string): void {
    if (!this.closed) this.outbound.send(frame);
  }

  send(envelope: Envelope): void {
    if (!this.closed) this.outbound.send(encodeEnvelope(envelope));
  }

  /** This session as a user entry; empty Ua/Rev/Status are omitted like Go's omitempty. */
  entry(type: string): UserEntry {
    return {
      Type: type,
      Id: this.id,
      Ua: this.ua || undefined,
      Rev: this.rev || undefined,
      Prio: this.prio,
      Status: this.status ? new GoMap(this.status) : undefined,
    };
  }
}
