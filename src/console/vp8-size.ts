import { isVp8Keyframe } from '../media/keyframe.js';

/** The RFC 7741 payload descriptor is 1 to 6 bytes long. */
const MAX_DESCRIPTOR = 6;

/**
 * Frame size of a VP8 key frame, read from the first RTP packet of the frame: after the payload
 * descriptor comes the key frame header (3-byte frame tag, start code `9d 01 2a`, 14-bit width
 * and height). Undefined for anything else (inter frames, continuation packets, garbage). Pure.
 */
export function vp8KeyframeSize(payload: Uint8Array): { width: number; height: number } | undefined {
  if (!isVp8Keyframe(payload)) return undefined;
  for (let at = 1; at <= MAX_DESCRIPTOR && at + 10 <= payload.length; at++) {
    if (payload[at + 3] !== 0x9d || payload[at + 4] !== 0x01 || payload[at + 5] !== 0x2a) continue;
    const width = (payload[at + 6]! | (payload[at + 7]! << 8)) & 0x3fff;
    const height = (payload[at + 8]! | (payload[at + 9]! << 8)) & 0x3fff;
    return width > 0 && height > 0 ? { width, height } : undefined;
  }
  return undefined;
}
