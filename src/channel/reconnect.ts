import type { BackoffPolicy } from '../util/backoff.js';

/**
 * Attempt counting and the timers of the connection lifecycle: the delay before the next
 * reconnect attempt (from the {@link BackoffPolicy}), the connect timeout of the current one,
 * and the optional deadline of the first connect.
 */
export class ReconnectSchedule {
  private count = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  /**
   * @param policy delay before each reconnect attempt
   * @param connectTimeoutMs fixed connect timeout; by default like the web client: 5 s, +5 s per attempt, at most 20 s
   */
  constructor(
    private readonly policy: BackoffPolicy,
    private readonly connectTimeoutMs: number | undefined,
  ) {}

  /** Reconnect attempts since the last successful connect (0 for the first connect). */
  get attempt(): number {
    return this.count;
  }

  /** Counts one more attempt and returns its delay, or `undefined` when the policy gives up. */
  next(): number | undefined {
    this.count += 1;
    return this.policy.delay(this.count);
  }

  /** Runs `open` after `delayMs`. */
  wait(delayMs: number, open: () => void): void {
    this.reconnectTimer = setTimeout(open, delayMs);
  }

  /** Arms the connect timeout of the current attempt; `expired` gets the timeout used. */
  armConnectTimeout(expired: (timeoutMs: number) => void): void {
    const timeoutMs = this.connectTimeoutMs ?? Math.min(5000 + 5000 * this.count, 20_000);
    this.connectTimer = setTimeout(() => expired(timeoutMs), timeoutMs);
    this.connectTimer.unref?.();
  }

  /** Runs `expired` after `timeoutMs` unless {@link ReconnectSchedule.connected} or cancel() come first. */
  armDeadline(timeoutMs: number, expired: () => void): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(expired, timeoutMs);
  }

  /** Disarms the connect timeout. */
  clearConnectTimeout(): void {
    clearTimeout(this.connectTimer);
  }

  /** The connection is up: the next loss starts counting from 1 again. */
  connected(): void {
    this.clearConnectTimeout();
    clearTimeout(this.deadlineTimer);
    this.count = 0;
  }

  /** Cancels every timer (on close). */
  cancel(): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.deadlineTimer);
  }
}
