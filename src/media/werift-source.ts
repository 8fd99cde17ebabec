import { Observable } from 'rxjs';
import { RtcpSrPacket, type MediaStreamTrack, type RTCRtpReceiver } from 'werift';
import type { RtpPacket } from 'werift/nonstandard';
import type { RemoteTrackSource, SenderReport } from './types.js';

/**
 * Adapts a received werift track to {@link RemoteTrackSource}: RTP from `track.onReceiveRtp`
 * (completes when werift ends the track), sender reports from `track.onReceiveRtcp`, PLI through
 * `receiver.sendRtcpPLI`. For the peer layer and tests; call once `ontrack` fired (ssrc/codec set).
 */
export function remoteTrackSource(track: MediaStreamTrack, receiver: RTCRtpReceiver, participantId: string): RemoteTrackSource {
  const codec = track.codec;
  if (!codec || track.ssrc === undefined) throw new Error('track has no codec/ssrc yet: call remoteTrackSource from ontrack');
  return {
    kind: track.kind === 'video' ? 'video' : 'audio',
    codec: {
      mimeType: codec.mimeType,
      payloadType: codec.payloadType,
      clockRate: codec.clockRate,
      channels: codec.channels,
      parameters: codec.parameters,
    },
    ssrc: track.ssrc,
    participantId,
    rtp$: new Observable<RtpPacket>((subscriber) => {
      const { unSubscribe } = track.onReceiveRtp.subscribe(
        (rtp) => subscriber.next(rtp as unknown as RtpPacket),
        () => subscriber.complete(),
      );
      return unSubscribe;
    }),
    senderReports$: new Observable<SenderReport>((subscriber) => {
      const { unSubscribe } = track.onReceiveRtcp.subscribe(
        (packet) => {
          if (packet instanceof RtcpSrPacket) {
            subscriber.next({ ntpTime: packet.senderInfo.ntpTimestamp, rtpTimestamp: packet.senderInfo.rtpTimestamp });
          }
        },
        () => subscriber.complete(),
      );
      return unSubscribe;
    }),
    requestKeyframe: () => receiver.sendRtcpPLI(track.ssrc!),
  };
}
