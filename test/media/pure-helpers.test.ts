import { describe, expect, it } from 'vitest';
import { chooseContainer } from '../../src/media/container.js';
import { parseProgress } from '../../src/media/ffmpeg.js';
import { isH264Keyframe, isVp8Keyframe } from '../../src/media/keyframe.js';
import { durationElement, findDurationSlot } from '../../src/media/mkv-duration.js';
import { ntpToUnixMs, rtpToUnixMs, unixMsToNtp } from '../../src/media/ntp.js';

describe('parseProgress', () => {
  it('reads time= and size=', () => {
    expect(parseProgress('size=     256kB time=00:01:02.50 bitrate= 33.5kbits/s speed=1x')).toEqual({ timeMs: 62500, sizeBytes: 262144 });
    expect(parseProgress('frame=  10 fps=0.0 q=-1.0 Lsize=N/A time=00:00:00.40 bitrate=N/A')).toEqual({ timeMs: 400, sizeBytes: 0 });
    expect(parseProgress('Input #0, sdp, from x.sdp:')).toBeUndefined();
  });
});

describe('keyframe detection', () => {
  it('VP8: S bit, partition 0, P bit clear', () => {
    expect(isVp8Keyframe(Uint8Array.from([0x10, 0x00]))).toBe(true); // S=1, no X, key
    expect(isVp8Keyframe(Uint8Array.from([0x10, 0x01]))).toBe(false); // inter frame
    expect(isVp8Keyframe(Uint8Array.from([0x00, 0x00]))).toBe(false); // continuation
    // X=1, I=1 with 15-bit picture id, then payload header
    expect(isVp8Keyframe(Uint8Array.from([0x90, 0x80, 0x81, 0x23, 0x9c]))).toBe(true);
    expect(isVp8Keyframe(Uint8Array.from([0x90, 0x80, 0x81, 0x23, 0x9d]))).toBe(false);
  });

  it('H264: IDR, SPS, FU-A start of IDR, STAP-A with SPS', () => {
    expect(isH264Keyframe(Uint8Array.from([0x65]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x67]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x41]))).toBe(false);
    expect(isH264Keyframe(Uint8Array.from([0x7c, 0x85]))).toBe(true);
    expect(isH264Keyframe(Uint8Array.from([0x7c, 0x05]))).toBe(false);
    expect(isH264Keyframe(Uint8Array.from([0x78, 0x00, 0x02, 0x67, 0x42]))).toBe(true);
  });
});

describe('ntp', () => {
  it('converts NTP to Unix ms and back', () => {
    const ms = Date.UTC(2026, 10, 25, 16, 0, 0, 250);
    expect(ntpToUnixMs(unixMsToNtp(ms))).toBeCloseTo(ms, 3);
    expect(ntpToUnixMs(2_208_988_800n << 32n)).toBe(0);
  });

  it('maps an RTP timestamp through a sender report, across 32-bit wrap', () => {
    const report = { ntpTime: unixMsToNtp(1_000_000), rtpTimestamp: 0xffffff00 };
    expect(rtpToUnixMs(0xffffff00 + 48000 - 2 ** 32, report, 48000)).toBeCloseTo(1_001_000, 3);
    expect(rtpToUnixMs(0xffffff00 - 4800, report, 48000)).toBeCloseTo(999_900, 3);
  });
});

describe('containers', () => {
  it('chooses webm, mkv or ogg', () => {
    expect(chooseContainer(['audio/opus', 'video/VP8']).ext).toBe('webm');
    expect(chooseContainer(['audio/opus', 'video/H264']).ext).toBe('mkv');
    expect(chooseContainer(['audio/OPUS']).ext).toBe('ogg');
    expect(() => chooseContainer(['video/AV1'])).toThrow(/AV1|av1/);
  });
});

describe('matroska duration slot', () => {
  it('finds the 11-byte Void inside Info', () => {
    const ebml = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80]);
    const segment = Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const seekVoid = Buffer.from([0xec, 0x82, 0, 0]);
    const timecodeScale = Buffer.from([0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40]);
    const durationVoid = Buffer.from([0xec, 0x01, 0, 0, 0, 0, 0, 0, 0x02, 0, 0]);
    const info = Buffer.concat([Buffer.from([0x15, 0x49, 0xa9, 0x66, 0x80 | (timecodeScale.length + 11)]), timecodeScale, durationVoid]);
    const head = Buffer.concat([ebml, segment, seekVoid, info]);
    const slot = findDurationSlot(head)!;
    expect(slot).toBe(head.length - 11);
    const el = durationElement(1234.5);
    expect(el.length).toBe(11);
    el.copy(head, slot);
    expect(findDurationSlot(head)).toBe(slot);
    expect(head.readDoubleBE(slot + 3)).toBe(1234.5);
  });

  it('returns undefined for a header not yet written', () => {
    expect(findDurationSlot(Buffer.alloc(0))).toBeUndefined();
    expect(findDurationSlot(Buffer.from([0x1a, 0x45]))).toBeUndefined();
  });
});
