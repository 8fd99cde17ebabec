import { describe, expect, it } from 'vitest';
import { fsSafeName, fsSafeTime, segmentBaseName, uniqueName } from '../../src/media/names.js';

describe('file names', () => {
  it('removes separators, control and reserved characters', () => {
    expect(fsSafeName('Alice / Bob')).toBe('Alice _ Bob');
    expect(fsSafeName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(fsSafeName('a:b*c?"d<e>f|g\\h\u0000i')).toBe('a_b_c_d_e_f_g_h_i');
    expect(fsSafeName('  ..hidden  ')).toBe('hidden');
  });

  it('falls back for empty or reserved names and truncates long ones', () => {
    expect(fsSafeName('', 'id123')).toBe('id123');
    expect(fsSafeName('...', 'id123')).toBe('id123');
    expect(fsSafeName('CON')).toBe('participant');
    expect(fsSafeName('x'.repeat(100)).length).toBe(64);
  });

  it('keeps unicode names', () => {
    expect(fsSafeName('Jürgen 🎤')).toBe('Jürgen 🎤');
  });

  it('makes names unique, case-insensitively', () => {
    expect(uniqueName('alice', [])).toBe('alice');
    expect(uniqueName('alice', ['Alice'])).toBe('alice-2');
    expect(uniqueName('alice', ['alice', 'alice-2'])).toBe('alice-3');
  });

  it('formats times and segment names for the file system', () => {
    expect(fsSafeTime(new Date('2026-11-25T16:55:18.123Z'))).toBe('2026-11-25T16-55-18.123Z');
    expect(segmentBaseName('alice', 1)).toBe('alice');
    expect(segmentBaseName('alice', 2)).toBe('alice.2');
  });
});
