import { MediaStreamTrack, RTCPeerConnection } from 'werift';
import { recordingCodecs } from '../../../src/media/codecs.js';
import { remoteTrackSource } from '../../../src/media/werift-source.js';
import type { RemoteTrackSource } from '../../../src/media/types.js';

/** A werift sender and receiver connected on 127.0.0.1 in-process. */
export interface LoopbackCall {
  sender: RTCPeerConnection;
  receiver: RTCPeerConnection;
  /** Feed raw RTP (Buffer) into these. */
  tracks: { audio?: MediaStreamTrack; video?: MediaStreamTrack };
  /** Recorder-side sources. */
  sources: RemoteTrackSource[];
  /** Resolves when the receiver saw a track of every kind (needs packets flowing). */
  ready: Promise<void>;
  close(): Promise<void>;
}

const config = (h264: boolean) => ({
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv6: false,
  codecs: recordingCodecs({ vp8: !h264, h264 }),
});

/** Connects a sender with the given kinds to a receiver; resolves when the receiver has its tracks. */
export async function connectLoopback(options: { audio?: boolean; video?: 'vp8' | 'h264'; participantId?: string }): Promise<LoopbackCall> {
  const h264 = options.video === 'h264';
  const sender = new RTCPeerConnection(config(h264));
  const receiver = new RTCPeerConnection(config(h264));
  const tracks: LoopbackCall['tracks'] = {};
  if (options.audio !== false) {
    tracks.audio = new MediaStreamTrack({ kind: 'audio' });
    sender.addTransceiver(tracks.audio, { direction: 'sendonly' });
  }
  if (options.video) {
    tracks.video = new MediaStreamTrack({ kind: 'video' });
    sender.addTransceiver(tracks.video, { direction: 'sendonly' });
  }
  const expected = Object.keys(tracks).length;
  const sources: RemoteTrackSource[] = [];
  const gotTracks = new Promise<void>((resolve) => {
    receiver.onTrack.subscribe((track) => {
      const transceiver = receiver.getTransceivers().find((t) => t.receiver.tracks.includes(track))!;
      const add = () => {
        sources.push(remoteTrackSource(track, transceiver.receiver, options.participantId ?? 'p1'));
        if (sources.length === expected) resolve();
      };
      // werift fires onTrack before the first packet sets ssrc for unsignalled streams.
      if (track.ssrc !== undefined && track.codec) add();
      else track.onReceiveRtp.once(() => add());
    });
  });
  const connected = Promise.all(
    [sender, receiver].map((pc) => new Promise<void>((r) => pc.connectionStateChange.subscribe((s) => s === 'connected' && r()))),
  );
  await sender.setLocalDescription(await sender.createOffer());
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription(await receiver.createAnswer());
  await sender.setRemoteDescription(receiver.localDescription!);
  await connected;
  return {
    sender,
    receiver,
    tracks,
    sources,
    ready: gotTracks,
    async close() {
      await Promise.all([sender.close(), receiver.close()]);
    },
  };
}
