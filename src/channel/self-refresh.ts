import type { SelfDoc } from '../protocol/index.js';

const MAX_TIMER = 2 ** 31 - 1;

/**
 * Asks for a fresh Self (new token and TURN credentials) before the old TURN credentials
 * expire, at 90 % of `Turn.ttl`, as the web client does (PROTOCOL-NOTES §2.2).
 */
export class SelfRefresh {
  private timer: NodeJS.Timeout | undefined;

  /** @param refresh called when the refresh is due */
  constructor(private readonly refresh: () => void) {}

  /** (Re)arms the timer for `self`; without a positive TURN ttl nothing is scheduled. */
  schedule(self: SelfDoc): void {
    clearTimeout(this.timer);
    const ttl = self.Turn?.ttl ?? 0;
    if (!(ttl > 0)) return;
    this.timer = setTimeout(() => this.refresh(), Math.min(ttl * 900, MAX_TIMER));
    this.timer.unref?.();
  }

  /** Cancels a scheduled refresh. */
  stop(): void {
    clearTimeout(this.timer);
  }
}
