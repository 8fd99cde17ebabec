import type { RtpPacket } from 'werift/nonstandard';
import type { Subscription } from 'rxjs';
import { ReorderBuffer, type ReorderBufferOptions } from './jitter-buffer.js';
import { KeyframePolicy, keyframeDetector, type KeyframeReason } from './keyframe.js';
import { rtpToUnixMs } from './ntp.js';
import type { RtspFeed } from './rtsp-feed.js';
import type { RemoteTrackSource, SenderReport } from './types.js';
import type { Logger } from '../util/logger.js';

/** Wall-clock time of the first forwarded sample and where it came from. */
export interface FirstSample {
  time: number;
  source: 'rtcp-sr' | 'arrival';
}

/** Options for {@link RtpForwarder}. */
export interface RtpForwarderOptions {
  source: RemoteTrackSource;
  /** The feed ffmpeg reads this stream from. */
  feed: RtspFeed;
  /** This stream's index in the feed's SDP. */
  track: number;
  logger: Logger;
  reorder?: ReorderBufferOptions;
  /** PLI timing for video; see {@link KeyframePolicy}. */
  keyframeRetryMs?: number;
  /** Called with every PLI sent. */
  onKeyframeRequest?: (reason: KeyframeReason) => void;
  /** Called when the first-sample time becomes known or better (SR replaces arrival). */
  onFirstSample?: (first: FirstSample) => void;
}

/**
 * Moves one track's RTP to ffmpeg: reorders by sequence number, rewrites SSRC/sequence/timestamp so
 * ffmpeg sees one continuous stream even when the sender switches SSRC (the new SSRC continues
 * where the old one stopped, offset by the wall-clock gap), and drives PLIs for video.
 *
 * Sender reports only date the first sample; they are not forwarded to ffmpeg, whose RTP demuxer
 * jumps timestamps backwards when it switches from arrival order to SR timing mid-stream. Without
 * them ffmpeg starts every stream at its first packet, which arrive within one frame of each other.
 *
 * Packets arriving before {@link RtpForwarder.open} are dropped: ffmpeg is not reading yet, and
 * the keyframe policy asks for a fresh keyframe once it is.
 */
export class RtpForwarder {
  readonly outSsrc = (Math.random() * 0xffffffff) >>> 0;
  readonly keyframes: KeyframePolicy | undefined;
  private readonly isKeyframe: ((payload: Uint8Array) => boolean) | undefined;
  private reorder: ReorderBuffer<RtpPacket>;
  private readonly subscriptions: Subscription[] = [];
  private inSsrc: number | undefined;
  private emittedSsrc: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastOutSeq = 0;
  private lastOutTs = 0;
  private lastEmitAt = 0;
  private firstRtpTs: number | undefined;
  private firstSsrc: number | undefined;
  private firstSample: FirstSample | undefined;
  private open_ = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Counters for stats. */
  readonly counters = { received: 0, forwarded: 0, bytes: 0, wrongPayloadType: 0, lostBeforeReset: 0, reorderedBeforeReset: 0 };

  constructor(private readonly options: RtpForwarderOptions) {
    const { source } = options;
    this.isKeyframe = source.kind === 'video' ? keyframeDetector(source.codec.mimeType) : undefined;
    if (this.isKeyframe) {
      this.keyframes = new KeyframePolicy({
        request: () => source.requestKeyframe(),
        retryMs: options.keyframeRetryMs,
        onRequest: options.onKeyframeRequest,
      });
    }
    this.reorder = this.newReorderBuffer();
    this.subscriptions.push(
      source.rtp$.subscribe({ next: (rtp) => this.onRtp(rtp), error: () => this.endOfStream(), complete: () => this.endOfStream() }),
    );
    if (source.senderReports$) this.subscriptions.push(source.senderReports$.subscribe({ next: (sr) => this.onSenderReport(sr), error: () => undefined }));
    this.keyframes?.request('start');
  }

  /** Packets lost and reordered so far (all SSRCs). */
  get lost(): number {
    return this.counters.lostBeforeReset + this.reorder.stats.lost;
  }
  get reordered(): number {
    return this.counters.reorderedBeforeReset + this.reorder.stats.reordered;
  }
  /** Time of the first forwarded sample, once known. */
  get first(): FirstSample | undefined {
    return this.firstSample;
  }

  /** Starts forwarding (ffmpeg is reading the feed) and asks for a keyframe. */
  open(): void {
    if (this.closed) return;
    this.open_ = true;
    this.keyframes?.request('bound');
  }

  /** Releases timers and lets late packets out of the reorder buffer. */
  poll(now = Date.now()): void {
    this.reorder.poll(now);
  }

  /** Flushes held packets and stops listening (idempotent). */
  close(): void {
    if (this.closed) return;
    this.reorder.flush();
    this.closed = true;
    clearTimeout(this.pollTimer);
    this.keyframes?.close();
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private newReorderBuffer(): ReorderBuffer<RtpPacket> {
    return new ReorderBuffer<RtpPacket>(
      (rtp) => this.forward(rtp),
      (count, fromSeq) => {
        this.options.logger.debug({ count, fromSeq, ssrc: this.inSsrc }, 'rtp loss');
        this.keyframes?.request('loss');
      },
      this.options.reorder,
    );
  }

  private endOfStream(): void {
    this.reorder.flush();
  }

  private onRtp(rtp: RtpPacket): void {
    if (this.closed || !this.open_) return;
    const { header } = rtp;
    if (header.payloadType !== this.options.source.codec.payloadType) {
      this.counters.wrongPayloadType++;
      return;
    }
    this.counters.received++;
    if (this.inSsrc !== undefined && header.ssrc !== this.inSsrc) {
      // New SSRC on the same track: finish the old sequence space, start a fresh one.
      this.reorder.flush();
      this.counters.lostBeforeReset += this.reorder.stats.lost;
      this.counters.reorderedBeforeReset += this.reorder.stats.reordered;
      this.reorder = this.newReorderBuffer();
      this.keyframes?.request('ssrc-change');
    }
    this.inSsrc = header.ssrc;
    this.reorder.push(header.sequenceNumber, rtp, Date.now());
    // Only a gap needs a timer: it releases held packets once the latency bound passes.
    if (this.reorder.size > 0) this.schedulePoll();
  }

  private schedulePoll(): void {
    this.pollTimer ??= setTimeout(() => {
      this.pollTimer = undefined;
      this.poll();
      if (this.reorder.size > 0 && !this.closed) this.schedulePoll();
    }, 50);
  }

  private forward(rtp: RtpPacket): void {
    if (this.closed) return;
    const { header } = rtp;
    const now = Date.now();
    if (header.ssrc !== this.emittedSsrc) {
      if (this.emittedSsrc === undefined) {
        this.seqOffset = 0;
        this.tsOffset = 0;
        this.firstRtpTs = header.timestamp;
        this.firstSsrc = header.ssrc;
        this.setFirstSample({ time: now, source: 'arrival' });
      } else {
        const elapsed = Math.max(1, Math.round(((now - this.lastEmitAt) * this.options.source.codec.clockRate) / 1000));
        this.seqOffset = (this.lastOutSeq + 1 - header.sequenceNumber) & 0xffff;
        this.tsOffset = (this.lastOutTs + elapsed - header.timestamp) >>> 0;
      }
      this.emittedSsrc = header.ssrc;
    }
    if (this.keyframes?.awaitingKeyframe && this.isKeyframe!(rtp.payload)) this.keyframes.keyframeReceived();
    const seq = (header.sequenceNumber + this.seqOffset) & 0xffff;
    const ts = (header.timestamp + this.tsOffset) >>> 0;
    this.lastOutSeq = seq;
    this.lastOutTs = ts;
    this.lastEmitAt = now;
    this.counters.forwarded++;
    this.counters.bytes += 12 + rtp.payload.length;
    this.options.feed.writeRtp(this.options.track, header.marker, header.payloadType, seq, ts, this.outSsrc, rtp.payload);
  }

  private onSenderReport(sr: SenderReport): void {
    if (this.closed) return;
    if (this.firstRtpTs !== undefined && this.firstSsrc === this.emittedSsrc && this.firstSample?.source !== 'rtcp-sr') {
      this.setFirstSample({ time: rtpToUnixMs(this.firstRtpTs, sr, this.options.source.codec.clockRate), source: 'rtcp-sr' });
    }
  }

  private setFirstSample(first: FirstSample): void {
    this.firstSample = first;
    this.options.onFirstSample?.(first);
  }
}
