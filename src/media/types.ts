import type { Observable } from 'rxjs';
import type { RtpPacket } from 'werift/nonstandard';

/** Negotiated codec of a remote track, as the peer layer learnt it from SDP. */
export interface NegotiatedCodec {
  /** e.g. `audio/opus`, `video/VP8`, `video/H264` (case-insensitive). */
  mimeType: string;
  /** Negotiated RTP payload type. */
  payloadType: number;
  /** RTP clock rate (48000 for Opus, 90000 for video). */
  clockRate: number;
  /** Audio channels (2 for Opus in WebRTC). */
  channels?: number;
  /** The `a=fmtp` parameters, e.g. `profile-level-id=42e01f;packetization-mode=1`. */
  parameters?: string;
}

/** An RTCP sender report of the remote sender, reduced to its clock mapping. */
export interface SenderReport {
  /** 64-bit NTP timestamp of the report. */
  ntpTime: bigint;
  /** RTP timestamp that corresponds to `ntpTime`. */
  rtpTimestamp: number;
}

/**
 * The boundary between the peer layer and the recorder: one incoming track of one participant.
 * The peer layer builds one per werift `MediaStreamTrack` it receives.
 */
export interface RemoteTrackSource {
  kind: 'audio' | 'video';
  codec: NegotiatedCodec;
  /** SSRC at the time the track appeared (packets may later carry another one). */
  ssrc: number;
  /** Session id of the sender. */
  participantId: string;
  /** Decrypted RTP packets; completes when the track ends. */
  rtp$: Observable<RtpPacket>;
  /** RTCP sender reports for this SSRC, when available. */
  senderReports$?: Observable<SenderReport>;
  /** Sends a PLI to the sender. */
  requestKeyframe(): Promise<void>;
}

/** Counters of one recorder (a participant, or summed over a meeting). */
export interface RecorderStats {
  /** RTP packets received from the peer layer. */
  packetsReceived: number;
  /** Packets never received (sequence gaps after the reorder window). */
  packetsLost: number;
  /** Packets that came in a different order and were put back in order. */
  packetsReordered: number;
  /** Packets dropped because ffmpeg stopped reading (a stuck disk); 0 in a healthy recording. */
  packetsDropped: number;
  /** RTP bytes handed to ffmpeg. */
  bytesForwarded: number;
  /** Output bytes ffmpeg reported (`size=`), summed over finished and running segments. */
  bytesWritten: number;
  /** PLIs sent. */
  keyframeRequests: number;
  /** Files started (segments). */
  segments: number;
}

/** Creates zeroed {@link RecorderStats}. */
export function emptyStats(): RecorderStats {
  return { packetsReceived: 0, packetsLost: 0, packetsReordered: 0, packetsDropped: 0, bytesForwarded: 0, bytesWritten: 0, keyframeRequests: 0, segments: 0 };
}

/** Adds `b` into `a` field by field and returns `a`. */
export function addStats(a: RecorderStats, b: RecorderStats): RecorderStats {
  for (const key of Object.keys(a) as (keyof RecorderStats)[]) a[key] += b[key];
  return a;
}
