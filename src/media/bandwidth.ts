import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, type RTCPeerConnection } from 'werift';
import { silentLogger, type Logger } from '../util/logger.js';

export { recordingCodecs, type RecordingCodecOptions } from './codecs.js';

/** REMB bitrate encoding: 18-bit mantissa and 6-bit exponent, `mantissa << exp >= bps` (rounded up). Pure. */
export function rembFields(bps: number): { brExp: number; brMantissa: number } {
  let mantissa = Math.max(0, Math.round(bps));
  let exp = 0;
  while (mantissa >= 1 << 18) {
    mantissa = Math.ceil(mantissa / 2);
    exp++;
  }
  return { brExp: exp, brMantissa: mantissa };
}

/** Builds a REMB (RTCP PSFB fmt 15) packet for `ssrcs`. Pure. */
export function rembPacket(senderSsrc: number, ssrcs: readonly number[], bps: number): RtcpPayloadSpecificFeedback {
  return new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({
      senderSsrc,
      mediaSsrc: 0,
      ...rembFields(bps),
      ssrcNum: ssrcs.length,
      ssrcFeedbacks: [...ssrcs],
    }),
  });
}

/** Options for {@link startBandwidthFeedback}. */
export interface BandwidthFeedbackOptions {
  /** Bitrate announced to the sender, bits/s. @defaultValue 4_000_000 */
  maxBitrate?: number;
  /** How often to send. Chromium drops a REMB estimate it has not seen for a few seconds. @defaultValue 1000 */
  intervalMs?: number;
  /** Include audio SSRCs too. @defaultValue false */
  includeAudio?: boolean;
  logger?: Logger;
}

/** Handle of {@link startBandwidthFeedback}. */
export interface BandwidthFeedback {
  /** REMB packets sent so far. */
  readonly sent: number;
  /** Stops sending (idempotent). */
  stop(): void;
}

/**
 * Tells the remote sender the link is good: sends REMB with `maxBitrate` every `intervalMs` for the
 * SSRCs received on `pc`. Without feedback Chromium stays near its ~300 kbps start bitrate
 * (MEDIA-NOTES §3). Needs `goog-remb` negotiated ({@link recordingCodecs} does). Stops with the PC.
 */
export function startBandwidthFeedback(pc: RTCPeerConnection, options: BandwidthFeedbackOptions = {}): BandwidthFeedback {
  const bps = options.maxBitrate ?? 4_000_000;
  const logger = options.logger ?? silentLogger;
  let sent = 0;
  const tick = () => {
    if (pc.connectionState === 'closed') return handle.stop();
    for (const transceiver of pc.getTransceivers()) {
      const receiver = transceiver.receiver;
      if (!options.includeAudio && transceiver.kind !== 'video') continue;
      const ssrcs = receiver.tracks.map((t) => t.ssrc).filter((s): s is number => typeof s === 'number');
      if (ssrcs.length === 0 || receiver.dtlsTransport?.state !== 'connected') continue;
      receiver.dtlsTransport.sendRtcp([rembPacket(receiver.rtcpSsrc, ssrcs, bps)]).then(
        () => sent++,
        (err: unknown) => logger.debug({ err }, 'REMB send failed'),
      );
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? 1000);
  tick();
  const handle: BandwidthFeedback = {
    get sent() {
      return sent;
    },
    stop: () => clearInterval(timer),
  };
  return handle;
}
