import type { Subscription } from 'rxjs';
import { sayByeAndClose } from './channel-util.js';
import { requestMessage } from './chunk.js';
import type { ChunkChannel } from './types.js';

/** One token connection of a download and the window of chunk requests in flight on it. */
export class FetchConnection {
  /** Chunk index → time the request was sent. */
  readonly inflight = new Map<number, number>();
  /** Last time this connection delivered a chunk (or got its first request). */
  lastProgress = Date.now();
  private readonly subs: Subscription[] = [];

  constructor(readonly channel: ChunkChannel) {}

  /** Routes the channel's messages and its close to the download. */
  listen(onMessage: (message: string | Buffer) => void, onClosed: () => void): void {
    this.subs.push(
      this.channel.message$.subscribe({ next: (m) => onMessage(m) }),
      this.channel.closed$.subscribe(() => onClosed()),
    );
  }

  /** Sends a request for chunk `index`; false when sending failed (the index stays in flight). */
  request(index: number): boolean {
    if (this.inflight.size === 0) this.lastProgress = Date.now();
    this.inflight.set(index, Date.now());
    try {
      this.channel.send(requestMessage(index));
      return true;
    } catch {
      return false;
    }
  }

  /** Empties the window and returns the chunks that were in flight. */
  takeInflight(): number[] {
    const indices = [...this.inflight.keys()];
    this.inflight.clear();
    return indices;
  }

  /** Removes the requests sent more than `timeoutMs` before `now` and returns their chunks. */
  takeOverdue(now: number, timeoutMs: number): number[] {
    const overdue: number[] = [];
    for (const [index, sentAt] of this.inflight) {
      if (now - sentAt <= timeoutMs) continue;
      this.inflight.delete(index);
      overdue.push(index);
    }
    return overdue;
  }

  /** Stops routing the channel's events. Idempotent. */
  stopListening(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  /** Stops listening, says bye and closes the channel. */
  close(): void {
    this.stopListening();
    sayByeAndClose(this.channel);
  }
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
