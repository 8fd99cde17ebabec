import { Observable, Subject } from 'rxjs';
import type { MediaStreamTrack, RTCRtpReceiver } from 'werift';
import type { RtpPacket } from 'werift/nonstandard';

/** Negotiated codec of a remote track (structurally `NegotiatedCodec` of src/media). */
export interface RemoteTrackCodec {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: string;
}

/**
 * One incoming track of one participant. Structurally the recorder's `RemoteTrackSource`
 * (src/media/types.ts), so it can be handed to the recorder as is.
 */
export interface RemoteTrack {
  kind: 'audio' | 'video';
  codec: RemoteTrackCodec;
  /** SSRC at the time the track appeared. */
  ssrc: number;
  /** Session id of the sender. */
  participantId: string;
  /** Decrypted RTP packets (hot); completes when the connection closes. */
  rtp$: Observable<RtpPacket>;
  /** RTCP sender reports of this SSRC (hot); completes with {@link rtp$}. */
  senderReports$?: Observable<{ ntpTime: bigint; rtpTimestamp: number }>;
  /** Sends a PLI to the sender. Never rejects once the connection is gone: resolves quietly. */
  requestKeyframe(): Promise<void>;
}

/** Internal handle: the track plus the function that ends its streams. */
export interface RemoteTrackHandle {
  track: RemoteTrack;
  end(): void;
}

/** Wraps a werift remote track. `ssrc` and `codec` are set by werift when `onTrack` fires. */
export function wrapRemoteTrack(track: MediaStreamTrack, receiver: RTCRtpReceiver | undefined, participantId: string): RemoteTrackHandle {
  const rtp = new Subject<RtpPacket>();
  const reports = new Subject<{ ntpTime: bigint; rtpTimestamp: number }>();
  const ssrc = track.ssrc ?? 0;
  const codec = track.codec;
  const subs = [
    track.onReceiveRtp.subscribe((packet) => rtp.next(packet)),
    track.onReceiveRtcp.subscribe((packet) => {
      // Sender report (PT 200) of this track's SSRC.
      if (packet.type === 200 && 'senderInfo' in packet && packet.ssrc === (track.ssrc ?? ssrc)) {
        reports.next({ ntpTime: packet.senderInfo.ntpTimestamp, rtpTimestamp: packet.senderInfo.rtpTimestamp });
      }
    }),
  ];
  let ended = false;
  const remote: RemoteTrack = {
    kind: track.kind === 'video' ? 'video' : 'audio',
    codec: {
      mimeType: codec?.mimeType ?? (track.kind === 'video' ? 'video/VP8' : 'audio/opus'),
      payloadType: codec?.payloadType ?? 0,
      clockRate: codec?.clockRate ?? (track.kind === 'video' ? 90000 : 48000),
      ...(codec?.channels !== undefined ? { channels: codec.channels } : {}),
      ...(codec?.parameters ? { parameters: codec.parameters } : {}),
    },
    ssrc,
    participantId,
    rtp$: rtp.asObservable(),
    senderReports$: reports.asObservable(),
    async requestKeyframe() {
      if (ended || !receiver) return;
      try {
        await receiver.sendRtcpPLI(track.ssrc ?? ssrc);
      } catch {
        // transport gone between the check and the send: a PLI is best effort anyway
      }
    },
  };
  return {
    track: remote,
    end() {
      if (ended) return;
      ended = true;
      for (const s of subs) s.unSubscribe();
      rtp.complete();
      reports.complete();
    },
  };
}
