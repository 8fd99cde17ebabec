import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback } from 'werift';
import { describe, expect, it } from 'vitest';
import { rembFields, rembPacket } from '../../src/media/bandwidth.js';
import { recordingCodecs } from '../../src/media/codecs.js';

describe('REMB', () => {
  it('encodes bitrates as 18-bit mantissa and exponent, never below the request', () => {
    expect(rembFields(100_000)).toEqual({ brExp: 0, brMantissa: 100_000 });
    for (const bps of [300_000, 4_000_000, 123_456_789]) {
      const { brExp, brMantissa } = rembFields(bps);
      expect(brMantissa).toBeLessThan(1 << 18);
      const value = brMantissa * 2 ** brExp;
      expect(value).toBeGreaterThanOrEqual(bps);
      expect(value / bps).toBeLessThan(1.0001);
    }
  });

  it('serialises as RTCP PSFB fmt 15 "REMB" that werift parses back', () => {
    const packet = rembPacket(0x1234, [0xaaaa, 0xbbbb], 4_000_000);
    const bytes = packet.serialize();
    expect(bytes[0]! & 0x1f).toBe(15);
    expect(bytes[1]).toBe(206);
    expect(bytes.subarray(12, 16).toString()).toBe('REMB');
    const parsed = ReceiverEstimatedMaxBitrate.deSerialize(bytes.subarray(4));
    expect(parsed.ssrcFeedbacks).toEqual([0xaaaa, 0xbbbb]);
    expect(Number(parsed.bitrate)).toBeGreaterThanOrEqual(4_000_000);
    expect(packet).toBeInstanceOf(RtcpPayloadSpecificFeedback);
  });
});

describe('recordingCodecs', () => {
  it('offers Opus, VP8 and uppercase H264 with REMB/TWCC/NACK/PLI feedback', () => {
    const { audio, video } = recordingCodecs();
    expect(audio.map((c) => c.mimeType.toLowerCase())).toEqual(['audio/opus']);
    expect(video.map((c) => c.mimeType)).toEqual(['video/VP8', 'video/H264']);
    for (const c of video) {
      expect(c.rtcpFeedback!.map((f) => `${f.type}${f.parameter ? ' ' + f.parameter : ''}`).sort()).toEqual(['goog-remb', 'nack', 'nack pli', 'transport-cc']);
    }
    expect(video[1]!.parameters).toContain('packetization-mode=1');
  });
});
