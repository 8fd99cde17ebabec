import { describe, expect, it } from 'vitest';
import { RtpStreamCounter } from '../../src/media/index.js';

describe('RtpStreamCounter', () => {
  it('counts packets and gaps across a sequence-number wrap', () => {
    const c = new RtpStreamCounter();
    for (const seq of [65533, 65534, 65535, 1, 2, 5]) c.count(seq); // 0, 3 and 4 missing
    expect(c.received).toBe(6);
    expect(c.lost).toBe(3);
  });

  it('a late (reordered) packet fills its gap; duplicates never make loss negative', () => {
    const c = new RtpStreamCounter();
    for (const seq of [10, 12, 11, 12, 12]) c.count(seq);
    expect(c.lost).toBe(0);
  });
});
