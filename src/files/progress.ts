/** Download progress, emitted on every received chunk. */
export interface FetchProgress {
  /** Chunks received and verified. */
  received: number;
  /** Chunks in the file. */
  total: number;
  /** Payload bytes received and verified. */
  bytes: number;
  /** Bytes per second over the last {@link RateMeter} window. */
  rate: number;
}

/** Bytes per second over a sliding time window. */
export class RateMeter {
  private readonly samples: Array<[time: number, bytes: number]> = [];

  /** @param windowMs Length of the averaging window. @defaultValue `2000` */
  constructor(private readonly windowMs = 2000) {}

  /** Records the running byte total at `now` and returns the current rate. */
  update(bytes: number, now = Date.now()): number {
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[1]![0] >= this.windowMs) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    return now > t0 ? ((bytes - b0) * 1000) / (now - t0) : 0;
  }
}
