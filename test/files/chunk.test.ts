import { describe, expect, it } from 'vitest';
import {
  BYE_MESSAGE,
  CHUNK_HEADER_SIZE,
  ChunkDecodeError,
  ControlParseError,
  MAX_CONTROL_LENGTH,
  crc32,
  decodeChunk,
  encodeChunk,
  parseControl,
  requestMessage,
  serializeControl,
  writeChunkHeader,
} from '../../src/files/index.js';

describe('crc32', () => {
  it('has the CRC-32/IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('is unsigned and 0 for empty input', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBeGreaterThan(0x7fffffff);
  });
});

describe('encodeChunk', () => {
  it('lays out version, reserved, UInt32LE index, UInt32LE CRC of the payload, payload', () => {
    const payload = Buffer.from('123456789');
    const buf = encodeChunk(0x01020304, payload);
    expect(buf.length).toBe(CHUNK_HEADER_SIZE + 9);
    expect([...buf.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...buf.subarray(4, 8)]).toEqual([0x04, 0x03, 0x02, 0x01]);
    expect([...buf.subarray(8, 12)]).toEqual([0x26, 0x39, 0xf4, 0xcb]);
    expect(buf.subarray(12).toString()).toBe('123456789');
  });
  it('matches a hand-built web-client chunk', () => {
    const wc = Buffer.from('000000000700000026' + '39f4cb' + Buffer.from('123456789').toString('hex'), 'hex');
    expect(encodeChunk(7, Buffer.from('123456789')).equals(wc)).toBe(true);
  });
  it('writes the header in place over a payload at offset 12', () => {
    const buf = Buffer.alloc(12 + 3, 0xee);
    buf.write('abc', 12);
    writeChunkHeader(buf, 5);
    expect(buf.equals(encodeChunk(5, Buffer.from('abc')))).toBe(true);
  });
  it('encodes an empty payload and the largest index', () => {
    const d = decodeChunk(encodeChunk(0xffffffff, Buffer.alloc(0)));
    expect(d.ok && d.chunk.index).toBe(0xffffffff);
    expect(() => encodeChunk(-1, Buffer.alloc(1))).toThrow(RangeError);
    expect(() => encodeChunk(2 ** 32, Buffer.alloc(1))).toThrow(RangeError);
  });
});

describe('decodeChunk', () => {
  it('round-trips', () => {
    const payload = Buffer.from(Array.from({ length: 60_000 }, (_, i) => i & 0xff));
    const d = decodeChunk(encodeChunk(42, payload));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.chunk.index).toBe(42);
    expect(d.chunk.crc).toBe(crc32(payload));
    expect(d.chunk.payload.equals(payload)).toBe(true);
  });
  it('accepts a Uint8Array view', () => {
    const enc = encodeChunk(3, Buffer.from('xyz'));
    const view = new Uint8Array(enc.buffer, enc.byteOffset, enc.length);
    expect(decodeChunk(view).ok).toBe(true);
  });
  it('rejects unknown versions', () => {
    const buf = encodeChunk(1, Buffer.from('a'));
    buf[0] = 1;
    const d = decodeChunk(buf);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error).toBeInstanceOf(ChunkDecodeError);
    expect(d.error.code).toBe('chunk_version');
  });
  it('rejects buffers shorter than the header', () => {
    for (const n of [0, 1, 11]) {
      const d = decodeChunk(Buffer.alloc(n));
      expect(!d.ok && d.error.code).toBe('chunk_truncated');
    }
  });
  it('rejects a CRC mismatch but reports the index', () => {
    const buf = encodeChunk(9, Buffer.from('hello'));
    buf[14]! ^= 0x01;
    const d = decodeChunk(buf);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.code).toBe('chunk_crc');
    expect(d.index).toBe(9);
  });
  it('detects a truncated payload through the CRC', () => {
    const buf = encodeChunk(1, Buffer.from('hello world'));
    const d = decodeChunk(buf.subarray(0, buf.length - 1));
    expect(!d.ok && d.error.code).toBe('chunk_crc');
  });
});

describe('control messages', () => {
  it('serialises exactly like the web client', () => {
    expect(requestMessage(0)).toBe('{"m":"r","i":0}');
    expect(serializeControl({ m: 'r', i: 123 })).toBe('{"m":"r","i":123}');
    expect(BYE_MESSAGE).toBe('{"m":"bye"}');
  });
  it('parses requests and bye', () => {
    expect(parseControl('{"m":"r","i":7}')).toEqual({ ok: true, message: { m: 'r', i: 7 } });
    expect(parseControl(' { "i" : 4294967295 , "m":"r" } ')).toEqual({ ok: true, message: { m: 'r', i: 4294967295 } });
    expect(parseControl('{"m":"r","i":"12"}')).toEqual({ ok: true, message: { m: 'r', i: 12 } });
    expect(parseControl('{"m":"bye"}')).toEqual({ ok: true, message: { m: 'bye' } });
    expect(parseControl('{"m":"bye","extra":[1,2]}')).toEqual({ ok: true, message: { m: 'bye' } });
  });
  const cases: Array<[string, string]> = [
    ['', 'control_invalid_json'],
    ['{"m":"r",', 'control_invalid_json'],
    ['not json', 'control_invalid_json'],
    ['null', 'control_not_object'],
    ['[{"m":"bye"}]', 'control_not_object'],
    ['"bye"', 'control_not_object'],
    ['42', 'control_not_object'],
    ['{}', 'control_unknown_mode'],
    ['{"m":"x"}', 'control_unknown_mode'],
    ['{"m":["r"],"i":1}', 'control_unknown_mode'],
    ['{"m":"r"}', 'control_bad_index'],
    ['{"m":"r","i":-1}', 'control_bad_index'],
    ['{"m":"r","i":1.5}', 'control_bad_index'],
    ['{"m":"r","i":4294967296}', 'control_bad_index'],
    ['{"m":"r","i":1e400}', 'control_bad_index'],
    ['{"m":"r","i":"1x"}', 'control_bad_index'],
    ['{"m":"r","i":null}', 'control_bad_index'],
    ['{"m":"r","i":{"valueOf":1}}', 'control_bad_index'],
  ];
  it.each(cases)('rejects %s as %s without throwing', (text, code) => {
    const r = parseControl(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(ControlParseError);
    expect(r.error.code).toBe(code);
  });
  it('ignores __proto__ and constructor keys and never pollutes prototypes', () => {
    const r1 = parseControl('{"__proto__":{"m":"r","i":1}}');
    expect(!r1.ok && r1.error.code).toBe('control_unknown_mode');
    const r2 = parseControl('{"m":"r","__proto__":{"i":3}}');
    expect(!r2.ok && r2.error.code).toBe('control_bad_index');
    const r3 = parseControl('{"constructor":{"prototype":{"polluted":true}},"m":"bye"}');
    expect(r3.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).m).toBeUndefined();
    expect(({} as Record<string, unknown>).i).toBeUndefined();
  });
  it('rejects huge messages before parsing them', () => {
    const huge = `{"m":"r","i":1,"pad":"${'x'.repeat(10_000_000)}"}`;
    const r = parseControl(huge);
    expect(!r.ok && r.error.code).toBe('control_too_large');
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(!parseControl(deep).ok).toBe(true);
    expect(parseControl(`{"m":"bye","p":"${'y'.repeat(MAX_CONTROL_LENGTH)}"}`).ok).toBe(false);
  });
});
