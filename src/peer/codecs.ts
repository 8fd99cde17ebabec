import { RTCRtpCodecParameters, useNACK, useOPUS, usePLI, useREMB, useTWCC, useVP8 } from 'werift';

/** Codec lists for werift's `codecs` option. */
export interface PeerCodecs {
  audio: RTCRtpCodecParameters[];
  video: RTCRtpCodecParameters[];
}

const videoFeedback = () => [useNACK(), usePLI(), useREMB(), useTWCC()];

/**
 * H264 constrained baseline with an **uppercase** `video/H264` mime type: werift 0.24.4's
 * `useH264()` writes lowercase `h264`, which Chromium accepts but never sends (MEDIA-NOTES §3).
 */
export function h264Codec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    rtcpFeedback: videoFeedback(),
    parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  });
}

/**
 * The default codecs: Opus (48 kHz stereo) for audio; VP8 then uppercase H264 for video, each
 * with nack, pli, goog-remb and transport-cc feedback. Fresh objects on every call: werift
 * assigns payload types into them per peer connection.
 */
export function defaultCodecs(): PeerCodecs {
  return {
    audio: [useOPUS({ rtcpFeedback: [useTWCC()] })],
    video: [useVP8({ rtcpFeedback: videoFeedback() }), h264Codec()],
  };
}

/** Deep-copies codec lists so several peer connections never share (and mutate) one object. */
export function cloneCodecs(codecs: PeerCodecs): PeerCodecs {
  const copy = (c: RTCRtpCodecParameters) =>
    new RTCRtpCodecParameters({
      mimeType: c.mimeType,
      clockRate: c.clockRate,
      channels: c.channels,
      parameters: c.parameters,
      rtcpFeedback: c.rtcpFeedback.map((f) => ({ ...f })),
      ...(c.payloadType !== undefined ? { payloadType: c.payloadType } : {}),
    });
  return { audio: codecs.audio.map(copy), video: codecs.video.map(copy) };
}
