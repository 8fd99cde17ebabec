/** True when a VP8 RTP payload starts a key frame (RFC 7741 descriptor, then the P bit). Pure. */
export function isVp8Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0]!;
  const start = (b0 & 0x10) !== 0;
  const partition = b0 & 0x07;
  if (!start || partition !== 0) return false;
  let i = 1;
  if (b0 & 0x80) {
    const x = payload[i++] ?? 0;
    if (x & 0x80) i += (payload[i]! & 0x80) ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID/KEYIDX
  }
  return i < payload.length && (payload[i]! & 0x01) === 0;
}

/** True when an H264 RTP payload carries (the start of) an IDR slice or SPS (RFC 6184). Pure. */
export function isH264Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 28 || type === 29) return payload.length > 1 && (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5;
  if (type === 24) {
    // STAP-A: 16-bit size + NAL, repeated
    for (let i = 1; i + 2 < payload.length; ) {
      const size = (payload[i]! << 8) | payload[i + 1]!;
      const nalType = payload[i + 2]! & 0x1f;
      if (nalType === 5 || nalType === 7) return true;
      i += 2 + size;
    }
  }
  return false;
}

/** Keyframe check for a codec by MIME type; undefined for codecs without one (audio). */
export function keyframeDetector(mimeType: string): ((payload: Uint8Array) => boolean) | undefined {
  const name = mimeType.toLowerCase();
  if (name.endsWith('/vp8')) return isVp8Keyframe;
  if (name.endsWith('/h264')) return isH264Keyframe;
  return undefined;
}

/** Options for {@link KeyframePolicy}. */
export interface KeyframePolicyOptions {
  /** Sends the PLI. Errors are swallowed (the next retry covers them). */
  request: () => Promise<void>;
  /** No two PLIs closer than this. @defaultValue 500 */
  minIntervalMs?: number;
  /** While waiting for a keyframe, repeat the PLI this often. @defaultValue 2000 */
  retryMs?: number;
  /** Called for every PLI actually sent, with why. */
  onRequest?: (reason: KeyframeReason) => void;
}

/** Why a keyframe was requested. */
export type KeyframeReason = 'start' | 'bound' | 'loss' | 'ssrc-change' | 'retry';

/**
 * When to send PLIs for one video track: at start, when ffmpeg has bound, after loss or an SSRC
 * change, and every `retryMs` until a keyframe arrives; rate-limited to `minIntervalMs`.
 */
export class KeyframePolicy {
  private lastSent = -Infinity;
  private waiting = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: KeyframePolicyOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 500;
    this.retryMs = options.retryMs ?? 2000;
  }

  /** True until a keyframe arrived after the last request. */
  get awaitingKeyframe(): boolean {
    return this.waiting;
  }

  /** Requests a keyframe now (or as soon as the rate limit allows) and keeps retrying until one arrives. */
  request(reason: KeyframeReason): void {
    if (this.closed) return;
    this.waiting = true;
    const wait = this.lastSent + this.minIntervalMs - Date.now();
    this.schedule(Math.max(0, wait), wait > 0 ? 'retry' : reason);
  }

  /** Tells the policy a keyframe arrived: stops the retries. */
  keyframeReceived(): void {
    this.waiting = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops all timers (idempotent). */
  close(): void {
    this.closed = true;
    this.keyframeReceived();
  }

  private schedule(delayMs: number, reason: KeyframeReason): void {
    clearTimeout(this.timer);
    const fire = () => {
      if (this.closed || !this.waiting) return;
      this.lastSent = Date.now();
      this.options.onRequest?.(reason);
      this.options.request().catch(() => undefined);
      this.schedule(this.retryMs, 'retry');
    };
    if (delayMs === 0) fire();
    else this.timer = setTimeout(fire, delayMs);
  }
}
