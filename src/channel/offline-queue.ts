import { ChannelError } from './errors.js';

/** Hello, Self and Room are never queued while offline (PROTOCOL-NOTES §2.7). */
const neverQueued = new Set<string>(['Hello', 'Self', 'Room']);

/** One encoded frame waiting for the connection; `iid` when it belongs to a request. */
export interface Queued {
  text: string;
  iid?: string;
}

/** Frames accepted while offline: bounded, FIFO, flushed after the rejoin (PROTOCOL-NOTES §2.7). */
export class OfflineQueue {
  private entries: Queued[] = [];

  /** @param max frames kept; beyond that {@link OfflineQueue.push} throws `queue_full` */
  constructor(private readonly max: number) {}

  /**
   * Queues one encoded frame of type `type`.
   * @throws ChannelError `not_connected` for Hello/Self/Room (never queued), `queue_full` when full
   */
  push(type: string, text: string, iid?: string): void {
    if (neverQueued.has(type)) throw new ChannelError('not_connected', `${type} is never queued: wait until the channel is connected (entersState(channel, 'connected', ms))`);
    if (this.entries.length >= this.max) {
      throw new ChannelError('queue_full', `offline queue full (${this.max} frames): wait for the reconnect or raise maxQueue`);
    }
    this.entries.push({ text, iid });
  }

  /** Removes and returns every queued frame, oldest first. */
  drain(): Queued[] {
    return this.entries.splice(0);
  }

  /** Drops every queued frame. */
  clear(): void {
    this.entries = [];
  }
}
