import { describe, expect, it } from 'vitest';
import { ReorderBuffer, seqDiff } from '../../src/media/jitter-buffer.js';

function harness(options = {}) {
  const out: number[] = [];
  const losses: [number, number][] = [];
  const buf = new ReorderBuffer<number>((item) => out.push(item), (count, from) => losses.push([count, from]), options);
  return { buf, out, losses, push: (seq: number, now = 0) => buf.push(seq, seq, now) };
}

describe('seqDiff', () => {
  it('is signed and wraps at 16 bits', () => {
    expect(seqDiff(5, 3)).toBe(2);
    expect(seqDiff(3, 5)).toBe(-2);
    expect(seqDiff(0, 65535)).toBe(1);
    expect(seqDiff(65535, 0)).toBe(-1);
    expect(seqDiff(100, 65500)).toBe(136);
  });
});

describe('ReorderBuffer', () => {
  it('passes in-order packets straight through', () => {
    const h = harness();
    for (const s of [10, 11, 12]) h.push(s);
    expect(h.out).toEqual([10, 11, 12]);
    expect(h.buf.size).toBe(0);
  });

  it('puts swapped packets back in order', () => {
    const h = harness();
    for (const s of [1, 3, 2, 5, 4, 6]) h.push(s);
    expect(h.out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.buf.stats.reordered).toBe(2);
    expect(h.buf.stats.lost).toBe(0);
  });

  it('handles sequence wrap-around', () => {
    const h = harness();
    for (const s of [65534, 0, 65535, 1]) h.push(s);
    expect(h.out).toEqual([65534, 65535, 0, 1]);
  });

  it('declares a gap lost after the latency bound and reports it', () => {
    const h = harness({ maxLatencyMs: 200 });
    h.push(1, 0);
    h.push(4, 10);
    h.push(5, 20);
    expect(h.out).toEqual([1]);
    h.buf.poll(150);
    expect(h.out).toEqual([1]);
    h.buf.poll(215);
    expect(h.out).toEqual([1, 4, 5]);
    expect(h.losses).toEqual([[2, 2]]);
    expect(h.buf.stats.lost).toBe(2);
    h.push(3, 230); // too late now
    expect(h.out).toEqual([1, 4, 5]);
    expect(h.buf.stats.late).toBe(1);
  });

  it('declares a gap lost when too many packets are held', () => {
    const h = harness({ maxPackets: 3 });
    h.push(1);
    for (const s of [3, 4, 5, 6]) h.push(s);
    expect(h.out).toEqual([1, 3, 4, 5, 6]);
    expect(h.buf.stats.lost).toBe(1);
  });

  it('drops duplicates', () => {
    const h = harness();
    for (const s of [1, 2, 2, 4, 4, 3]) h.push(s);
    expect(h.out).toEqual([1, 2, 3, 4]);
    expect(h.buf.stats.duplicates).toBe(2);
  });

  it('treats a huge jump as a stream restart, not loss', () => {
    const h = harness();
    h.push(100);
    h.push(40000);
    h.push(40001);
    expect(h.out).toEqual([100, 40000, 40001]);
    expect(h.buf.stats.lost).toBe(0);
    expect(h.buf.stats.resets).toBe(1);
  });

  it('flush releases held packets in order and counts the gaps', () => {
    const h = harness();
    h.push(1);
    h.push(3);
    h.push(6);
    h.buf.flush();
    expect(h.out).toEqual([1, 3, 6]);
    expect(h.buf.stats.lost).toBe(3);
  });
});
