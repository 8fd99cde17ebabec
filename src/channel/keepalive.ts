/** Callbacks of a {@link Keepalive}. */
export interface KeepaliveHooks {
  /** Send one Alive carrying `value`. */
  sendAlive(value: number): void;
  /** Nothing arrived for `silentMs`: drop the socket. */
  dead(silentMs: number): void;
  /** An Alive echo arrived: the measured round trip. */
  rtt(ms: number): void;
}

/**
 * The web client's heartbeat (PROTOCOL-NOTES §2.8): checked periodically; after `idleMs` without
 * receiving anything one Alive is sent; after `deadMs` without anything the socket is dropped.
 * The round trip is measured only from echoes of values this side sent.
 */
export class Keepalive {
  private lastReceived = Date.now();
  /** Bumped per received frame; the periodic check turns it into a time (no clock read per frame). */
  private receivedCount = 0;
  private seenCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly sent = new Map<number, number>();
  private aliveSentSinceReceive = false;

  constructor(
    private readonly idleMs: number,
    private readonly deadMs: number,
    private readonly hooks: KeepaliveHooks,
  ) {}

  /** Starts checking (on socket open). */
  start(): void {
    this.stop();
    this.lastReceived = Date.now();
    this.aliveSentSinceReceive = false;
    const every = Math.max(10, Math.min(1000, Math.floor(this.idleMs / 4)));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref?.();
  }

  /** Stops checking (on socket loss or close). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sent.clear();
  }

  /** Anything arrived. */
  received(): void {
    this.receivedCount++;
  }

  /** An Alive document arrived with `value`. */
  echo(value: number): void {
    const sentAt = this.sent.get(value);
    if (sentAt === undefined) return;
    this.sent.delete(value);
    this.hooks.rtt(performance.now() - sentAt);
  }

  /** Sends one Alive now (also usable to measure the round trip on demand). */
  ping(): void {
    let value = Date.now();
    while (this.sent.has(value)) value++;
    if (this.sent.size >= 16) this.sent.delete(this.sent.keys().next().value as number);
    this.sent.set(value, performance.now());
    this.hooks.sendAlive(value);
  }

  private check(): void {
    const now = Date.now();
    if (this.receivedCount !== this.seenCount) {
      this.seenCount = this.receivedCount;
      this.lastReceived = now;
      this.aliveSentSinceReceive = false;
    }
    const silent = now - this.lastReceived;
    if (silent >= this.deadMs) {
      this.stop();
      this.hooks.dead(silent);
    } else if (silent >= this.idleMs && !this.aliveSentSinceReceive) {
      this.aliveSentSinceReceive = true;
      this.ping();
    }
  }
}
