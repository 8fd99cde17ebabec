/**
 * Frame size of a VP8 key frame, read from the first RTP packet of the frame (RFC 7741 payload
 * descriptor, then the VP8 key frame header: start code `9d 01 2a`, 14-bit width and height).
 * Undefined for anything else (inter frames, continuation packets, garbage). Pure.
 */
export function vp8KeyframeSize(payload: Uint8Array): { width: number; height: number } | undefined {
  if (payload.length < 1) return undefined;
  const first = payload[0]!;
  const start = (first & 0x10) !== 0;
  const partition = first & 0x07;
  if (!start || partition !== 0) return undefined;
  let at = 1;
  if (first & 0x80) {
    const ext = payload[at++];
    if (ext === undefined) return undefined;
    if (ext & 0x80) at += (payload[at] ?? 0) & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (ext & 0x40) at += 1; // TL0PICIDX
    if (ext & 0x30) at += 1; // TID/KEYIDX
  }
  if (payload.length < at + 10) return undefined;
  const keyframe = (payload[at]! & 0x01) === 0;
  if (!keyframe || payload[at + 3] !== 0x9d || payload[at + 4] !== 0x01 || payload[at + 5] !== 0x2a) return undefined;
  const width = (payload[at + 6]! | (payload[at + 7]! << 8)) & 0x3fff;
  const height = (payload[at + 8]! | (payload[at + 9]! << 8)) & 0x3fff;
  return width > 0 && height > 0 ? { width, height } : undefined;
}
