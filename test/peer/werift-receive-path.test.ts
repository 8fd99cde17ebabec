/**
 * werift's per-packet receive path without string work (issue 16, where a recorder's CPU goes).
 *
 * Profiling bare werift receive of 40 realistic A/V streams (`RECORDER_RAMP_BARE=1 npx tsx
 * bench/recorder-ramp.ts 40` with `--cpu-prof`) showed werift turning numbers into strings on
 * every RTP packet: its `getBit` (RTP header fields, twice per packet: the SRTP header check and
 * the packet parse) built a binary string and parsed it back, `int` (receive statistics) printed
 * a float to parse it, and `RTCRtpCodecParameters.name` split the MIME type (twice per packet).
 * `patches/werift+0.24.4.patch` replaces them with arithmetic that returns the same values; these
 * tests check the values and that no number is turned into a string, so they fail without the patch.
 */
import { RTCRtpCodecParameters, RtpHeader, RtpPacket, getBit, int } from 'werift';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** werift's original getBit: bits of a byte, counted from its most significant bit. */
function referenceGetBit(bits: number, startIndex: number, length = 1): number {
  const bin = bits.toString(2).padStart(8, '0');
  return Number.parseInt(bin.slice(startIndex, startIndex + length), 2);
}

/** An RTP packet with a one-byte header extension, two CSRCs and padding, as raw bytes. */
function rtpBytes(opts: { marker: boolean; payloadType: number; seq: number; ts: number; ssrc: number }): Buffer {
  const header = Buffer.alloc(12 + 8 + 8);
  header[0] = 0x80 | 0x20 | 0x10 | 2; // V=2, P, X, CC=2
  header[1] = (opts.marker ? 0x80 : 0) | opts.payloadType;
  header.writeUInt16BE(opts.seq, 2);
  header.writeUInt32BE(opts.ts, 4);
  header.writeUInt32BE(opts.ssrc, 8);
  header.writeUInt32BE(0x01020304, 12);
  header.writeUInt32BE(0x05060708, 16);
  header.writeUInt16BE(0xbede, 20); // one-byte extensions, 1 word
  header.writeUInt16BE(1, 22);
  header[24] = 0x10; // id 1, length 1
  header[25] = 0x2a;
  const payload = Buffer.from('payload');
  const padding = Buffer.from([0, 0, 3]);
  return Buffer.concat([header, payload, padding]);
}

/** Counts Number → string conversions made through Number.prototype.toString and Number.parseInt while `fn` runs. */
function stringWork(fn: () => void): number {
  let calls = 0;
  const originalToString = Number.prototype.toString;
  const originalParseInt = Number.parseInt;
  Number.prototype.toString = function (this: number, radix?: number) {
    calls++;
    return originalToString.call(this, radix);
  };
  Number.parseInt = (s: string, radix?: number) => {
    calls++;
    return originalParseInt(s, radix);
  };
  try {
    fn();
  } finally {
    Number.prototype.toString = originalToString;
    Number.parseInt = originalParseInt;
  }
  return calls;
}

afterEach(() => vi.restoreAllMocks());

describe('werift receive path (patched)', () => {
  it('getBit returns what werift computed, for every byte and bit range', () => {
    for (let byte = 0; byte < 256; byte++) {
      for (let start = 0; start < 8; start++) {
        for (let length = 1; start + length <= 8; length++) {
          expect(getBit(byte, start, length), `getBit(${byte}, ${start}, ${length})`).toBe(referenceGetBit(byte, start, length));
        }
      }
    }
  });

  it('parses RTP headers with the same fields and no number-to-string work', () => {
    const raw = rtpBytes({ marker: true, payloadType: 111, seq: 65535, ts: 0xfffffff0, ssrc: 0xdeadbeef });
    let packet: RtpPacket | undefined;
    const conversions = stringWork(() => {
      for (let i = 0; i < 100; i++) packet = RtpPacket.deSerialize(raw);
    });
    expect(conversions).toBe(0);
    const h = packet!.header;
    expect([h.version, h.padding, h.extension, h.csrcLength, h.marker, h.payloadType]).toEqual([2, true, true, 2, true, 111]);
    expect([h.sequenceNumber, h.timestamp, h.ssrc, h.csrc]).toEqual([65535, 0xfffffff0, 0xdeadbeef, [0x01020304, 0x05060708]]);
    expect(h.extensions).toEqual([{ id: 1, payload: Buffer.from([0x2a]) }]);
    expect(packet!.payload.toString()).toBe('payload');
    const plain = RtpHeader.deSerialize(rtpBytes({ marker: false, payloadType: 96, seq: 1, ts: 2, ssrc: 3 }));
    expect([plain.marker, plain.payloadType]).toEqual([false, 96]);
  });

  it('int truncates numbers like Number.parseInt did, without printing them', () => {
    const values = [0, 1.9, -1.9, 123456.789, 1.58e14 + 0.5, -(2 ** 40) - 0.25, 2 ** 53];
    expect(values.map((v) => int(v))).toEqual(values.map((v) => Number.parseInt(String(v), 10)));
    expect(stringWork(() => values.forEach((v) => int(v)))).toBe(0);
    // Strings and numbers outside the plain notation still take parseInt's path.
    expect([int('42' as unknown as number), int(Number.NaN), int(1e22)]).toEqual([42, Number.NaN, 1]);
  });

  it('codec names are read without splitting the MIME type into an array', () => {
    const names = ['video/VP8', 'audio/opus', 'video/rtx', 'a/b/c', 'a/', 'nonsense'].map((mimeType) => new RTCRtpCodecParameters({ mimeType, clockRate: 90000 }));
    expect(names.map((c) => c.name)).toEqual(['VP8', 'opus', 'rtx', 'b', '', undefined]);
    const split = vi.spyOn(String.prototype, 'split');
    for (const c of names) void c.name;
    expect(split).not.toHaveBeenCalled();
  });
});
