import type { NegotiatedCodec } from './types.js';
import type { RtspFeed } from './rtsp-feed.js';

/** One m-line of an ffmpeg input SDP. */
export interface SdpStream {
  kind: 'audio' | 'video';
  /** Local UDP port ffmpeg listens on (RTCP on port + 1); 0 (the default) when RTP comes over RTSP. */
  port?: number;
  codec: NegotiatedCodec;
}

/** Encoding name as it goes in `a=rtpmap` (`audio/opus` → `opus`, `video/h264` → `H264`). */
export function encodingName(mimeType: string): string {
  const name = mimeType.split('/').pop() ?? mimeType;
  // ffmpeg matches case-insensitively, but keep the conventional spelling for humans.
  return name.toLowerCase() === 'opus' ? 'opus' : name.toUpperCase();
}

/**
 * Writes the SDP that tells ffmpeg what arrives: per stream PT, rtpmap (with channels for audio),
 * fmtp from the negotiated codec and `a=control:trackID=<index>` (the RTSP SETUP URL of that
 * stream, see {@link RtspFeed}). Pure.
 */
export function writeSdp(streams: readonly SdpStream[], sessionName = 'spreed-bot recording'): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', `s=${sessionName}`, 'c=IN IP4 127.0.0.1', 't=0 0'];
  for (const [index, { kind, port = 0, codec }] of streams.entries()) {
    const pt = codec.payloadType;
    const channels = kind === 'audio' && codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
    lines.push(`m=${kind} ${port} RTP/AVP ${pt}`, `a=rtpmap:${pt} ${encodingName(codec.mimeType)}/${codec.clockRate}${channels}`);
    if (codec.parameters) lines.push(`a=fmtp:${pt} ${codec.parameters}`);
    lines.push(`a=control:trackID=${index}`, 'a=recvonly');
  }
  return lines.join('\r\n') + '\r\n';
}
