import type { Received } from '../protocol/index.js';
import { ChannelError, ChannelRequestError } from './errors.js';

interface Pending {
  type: string;
  resolve: (value: Received) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** True once the request went out on a socket (a reply can only come on that socket). */
  written: boolean;
}

/**
 * Matches replies to requests by `Iid` (PROTOCOL-NOTES §1.3): the server echoes the Iid only on
 * the direct reply, and an Error reply to a request rejects it.
 */
export class RequestTracker {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  /** Number of requests waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  /** Registers a request and returns its fresh Iid and the promise of its reply. */
  open(type: string, timeoutMs: number): { iid: string; reply: Promise<Received> } {
    const iid = `sb${(this.counter++).toString(36)}`;
    const reply = new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(iid);
        reject(new ChannelError('timeout', `${type} request got no reply within ${timeoutMs} ms; the server may have dropped it silently (unknown target?)`));
      }, timeoutMs);
      timer.unref?.();
      this.pending.set(iid, { type, resolve, reject, timer, written: false });
    });
    return { iid, reply };
  }

  /** Whether a request is still waiting. */
  has(iid: string): boolean {
    return this.pending.has(iid);
  }

  /** Marks a request as written to the current socket. */
  written(iid: string): void {
    const entry = this.pending.get(iid);
    if (entry) entry.written = true;
  }

  /** Resolves or rejects the request a received document answers. @returns whether it was a reply */
  settle(received: Received): boolean {
    if (received.iid === undefined) return false;
    const entry = this.pending.get(received.iid);
    if (!entry) return false;
    this.pending.delete(received.iid);
    clearTimeout(entry.timer);
    if (received.kind === 'Error') {
      entry.reject(new ChannelRequestError(received.doc.Code, received.doc.Message, entry.type));
    } else {
      entry.resolve(received);
    }
    return true;
  }

  /** Rejects (and forgets) one request. */
  fail(iid: string, error: Error): void {
    const entry = this.pending.get(iid);
    if (!entry) return;
    this.pending.delete(iid);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  /** Rejects the requests that were written to a socket that is gone; queued ones stay. */
  failWritten(error: () => Error): void {
    for (const [iid, entry] of this.pending) if (entry.written) this.fail(iid, error());
  }

  /** Rejects every request. */
  failAll(error: () => Error): void {
    for (const iid of [...this.pending.keys()]) this.fail(iid, error());
  }
}
