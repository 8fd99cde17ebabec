import type { Subscription } from 'rxjs';
import { RtpStreamCounter } from '../media/stream-counter.js';
import type { RemoteTrack } from '../peer/index.js';
import { vp8KeyframeSize } from './vp8-size.js';

/** What the console shows about one received stream. */
export interface StreamView {
  participantId: string;
  kind: 'audio' | 'video';
  /** e.g. `VP8`, `opus`. */
  codec: string;
  /** `640x360`, once a key frame told (VP8 only). */
  resolution?: string;
  /** Payload bits per second over the last sample window. */
  bitrate: number;
  packetsReceived: number;
  packetsLost: number;
  /** False once the track ended. */
  live: boolean;
}

/** Minimum time between two bitrate samples: shorter windows jitter too much to read. */
const SAMPLE_MS = 900;

/**
 * Watches one remote track for the console: packets, loss, payload bytes, bitrate and (VP8) frame
 * size. One cheap subscriber on the track's RTP; {@link close} (or the track ending) stops it.
 */
export class TrackMonitor {
  readonly #counter = new RtpStreamCounter();
  readonly #subscription: Subscription;
  #bytes = 0;
  #sample = { at: Date.now(), bytes: 0 };
  #bitrate = 0;
  #size?: { width: number; height: number };
  #live = true;

  constructor(readonly track: RemoteTrack) {
    const vp8 = track.kind === 'video' && /vp8/i.test(track.codec.mimeType);
    this.#subscription = track.rtp$.subscribe({
      next: (packet) => {
        this.#counter.count(packet.header.sequenceNumber);
        this.#bytes += packet.payload.length;
        if (vp8) this.#size = vp8KeyframeSize(packet.payload) ?? this.#size;
      },
      complete: () => (this.#live = false),
      error: () => (this.#live = false),
    });
  }

  /** The stream as the console shows it; takes a new bitrate sample when the last is old enough. */
  view(now = Date.now()): StreamView {
    const elapsed = now - this.#sample.at;
    if (elapsed >= SAMPLE_MS) {
      this.#bitrate = this.#live ? Math.round(((this.#bytes - this.#sample.bytes) * 8 * 1000) / elapsed) : 0;
      this.#sample = { at: now, bytes: this.#bytes };
    }
    const { track } = this;
    return {
      participantId: track.participantId,
      kind: track.kind,
      codec: track.codec.mimeType.split('/')[1] ?? track.codec.mimeType,
      ...(this.#size ? { resolution: `${this.#size.width}x${this.#size.height}` } : {}),
      bitrate: this.#bitrate,
      packetsReceived: this.#counter.received,
      packetsLost: this.#counter.lost,
      live: this.#live,
    };
  }

  /** True once the track ended. */
  get ended(): boolean {
    return !this.#live;
  }

  close(): void {
    this.#subscription.unsubscribe();
    this.#live = false;
  }
}
