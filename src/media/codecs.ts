import { RTCRtpCodecParameters, useNACK, usePLI, useREMB, useTWCC, useOPUS } from 'werift';

/** Options for {@link recordingCodecs}. */
export interface RecordingCodecOptions {
  /** Offer/accept VP8. @defaultValue true */
  vp8?: boolean;
  /** Offer/accept H264 (constrained baseline, packetization-mode 1). @defaultValue true */
  h264?: boolean;
}

const videoFeedback = () => [useNACK(), usePLI(), useREMB(), useTWCC()];

/**
 * Codec list for werift peer connections that record: Opus, VP8 and H264 with NACK, PLI,
 * goog-remb and transport-cc feedback. H264 is declared as uppercase `video/H264` because werift
 * 0.24.4's `useH264()` writes `h264`, which Chromium accepts but then never sends (MEDIA-NOTES §3).
 * Pass as `new RTCPeerConnection({ codecs: recordingCodecs() })`.
 */
export function recordingCodecs(options: RecordingCodecOptions = {}): { audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] } {
  const video: RTCRtpCodecParameters[] = [];
  if (options.vp8 ?? true) {
    video.push(new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: videoFeedback() }));
  }
  if (options.h264 ?? true) {
    video.push(
      new RTCRtpCodecParameters({
        mimeType: 'video/H264',
        clockRate: 90000,
        rtcpFeedback: videoFeedback(),
        parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
      }),
    );
  }
  return { audio: [useOPUS()], video };
}
