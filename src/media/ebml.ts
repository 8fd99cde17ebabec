/** EBML element IDs of Matroska/WebM that the media layer looks at (with their marker bits). */
export const EBML_ID = {
  segment: 0x18538067,
  info: 0x1549a966,
  cluster: 0x1f43b675,
  void: 0xec,
  duration: 0x4489,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
} as const;

/**
 * Reads an EBML variable-length integer at `at`: an element ID (`keepMarker`) or a size (an
 * all-ones size, "unknown", as a live or killed ffmpeg leaves it, is `Infinity`). Undefined when
 * `buf` ends first or the byte is not a valid start. Pure.
 */
export function readVint(buf: Buffer, at: number, keepMarker: boolean): { value: number; length: number } | undefined {
  const first = buf[at];
  if (first === undefined || first === 0) return undefined;
  let length = 1;
  let mask = 0x80;
  while (!(first & mask)) {
    mask >>= 1;
    length++;
  }
  if (at + length > buf.length) return undefined;
  let value = keepMarker ? first : first & (mask - 1);
  let allOnes = (first & (mask - 1)) === mask - 1;
  for (let k = 1; k < length; k++) {
    value = value * 256 + buf[at + k]!;
    allOnes &&= buf[at + k] === 0xff;
  }
  return { value: !keepMarker && allOnes ? Infinity : value, length };
}
