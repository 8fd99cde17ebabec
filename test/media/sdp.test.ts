import { describe, expect, it } from 'vitest';
import { encodingName, writeSdp } from '../../src/media/sdp.js';

describe('writeSdp', () => {
  it('writes opus/48000/2 and VP8/90000 with the negotiated payload types', () => {
    const sdp = writeSdp([
      { kind: 'audio', port: 5004, codec: { mimeType: 'audio/OPUS', payloadType: 111, clockRate: 48000, channels: 2 } },
      { kind: 'video', port: 5006, codec: { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 } },
    ]);
    expect(sdp).toContain('c=IN IP4 127.0.0.1\r\n');
    expect(sdp).toContain('m=audio 5004 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n');
    expect(sdp).toContain('m=video 5006 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n');
    expect(sdp).not.toContain('fmtp');
    // RTSP SETUP URLs of the streams (RtspFeed), by index.
    expect(sdp).toContain('a=rtpmap:111 opus/48000/2\r\na=control:trackID=0\r\n');
    expect(sdp).toContain('a=rtpmap:96 VP8/90000\r\na=control:trackID=1\r\n');
    expect(sdp.endsWith('\r\n')).toBe(true);
  });

  it('writes H264 with its fmtp line', () => {
    const sdp = writeSdp([
      { kind: 'video', port: 5008, codec: { mimeType: 'video/h264', payloadType: 102, clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1' } },
    ]);
    expect(sdp).toContain('a=rtpmap:102 H264/90000\r\na=fmtp:102 profile-level-id=42e01f;packetization-mode=1\r\n');
  });

  it('omits the channel count for mono audio', () => {
    expect(writeSdp([{ kind: 'audio', port: 1, codec: { mimeType: 'audio/PCMU', payloadType: 0, clockRate: 8000, channels: 1 } }])).toContain(
      'a=rtpmap:0 PCMU/8000\r\n',
    );
  });

  it('normalises encoding names', () => {
    expect(encodingName('audio/OPUS')).toBe('opus');
    expect(encodingName('video/vp8')).toBe('VP8');
  });
});
