import { describe, expect, it } from 'vitest';
import { vp8KeyframeSize } from '../../src/console/vp8-size.js';

/** A VP8 key frame's first RTP payload: descriptor, 3-byte frame tag, start code, 14-bit sizes. */
function keyframe(width: number, height: number, descriptor: number[] = [0x10]): Uint8Array {
  return Uint8Array.from([...descriptor, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, width & 0xff, width >> 8, height & 0xff, height >> 8, 0, 0]);
}

describe('vp8KeyframeSize', () => {
  it('reads the size of a key frame, with and without the extended descriptor', () => {
    expect(vp8KeyframeSize(keyframe(320, 240))).toEqual({ width: 320, height: 240 });
    // X, then I with a 15-bit PictureID, L (TL0PICIDX) and T (TID).
    expect(vp8KeyframeSize(keyframe(1280, 720, [0x90, 0xe0, 0x80, 0x01, 0x05, 0x20]))).toEqual({ width: 1280, height: 720 });
  });

  it('ignores inter frames, continuation packets and garbage', () => {
    const inter = keyframe(320, 240);
    inter[1]! |= 0x01;
    expect(vp8KeyframeSize(inter)).toBeUndefined();
    expect(vp8KeyframeSize(keyframe(320, 240, [0x00]))).toBeUndefined(); // not the start of a partition
    expect(vp8KeyframeSize(Uint8Array.from([0x10, 1, 2]))).toBeUndefined();
    expect(vp8KeyframeSize(new Uint8Array(0))).toBeUndefined();
    expect(vp8KeyframeSize(Uint8Array.from([0x90]))).toBeUndefined();
  });
});
