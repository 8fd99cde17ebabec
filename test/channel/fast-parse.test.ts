import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/channel/fast-parse.js';
import { parseEnvelope } from '../../src/protocol/index.js';
import { capturedReceived } from '../protocol/fixtures/captured-frames.js';
import { hostileFrames, rng, samples } from './hostile-frames.js';

/* The channel's fast path must give exactly what the protocol's zod-based parser gives. */

function same(text: string): void {
  const fast = parseFrame(text);
  const slow = parseEnvelope(text);
  expect(fast.ok).toBe(slow.ok);
  if (fast.ok && slow.ok) {
    expect(fast.value).toEqual(slow.value);
    expect(Object.keys(fast.value.doc as object).sort()).toEqual(Object.keys(slow.value.doc as object).sort());
  } else if (!fast.ok && !slow.ok) {
    expect(fast.reason).toBe(slow.reason);
  }
}

const weird: unknown[] = [undefined, null, true, 0, -1, 1.5, 1025, 2 ** 53, '', 'x', 'start', 'stop', 'y'.repeat(65), 'z'.repeat(1025), 'w'.repeat(4097), [], {}, { a: 1 }, Object.create(null)];

describe('fast path ≡ zod', () => {
  it('on the captured frames', () => {
    for (const { frame } of capturedReceived) same(frame);
  });

  it('on 10,000 hostile frames', () => {
    for (const frame of hostileFrames(10_000, rng(99))) if (typeof frame === 'string') same(frame);
  });

  it('on every field of Candidate, Chat and Status set to every awkward value', () => {
    const hot = samples.filter((s) => ['Candidate', 'Chat', 'Status'].includes(s.Type as string));
    hot.push({ To: 'b', Type: 'Chat', Chat: { Message: null, Status: { Typing: 'start' }, NoEcho: true } });
    hot.push({ To: 'b', Type: 'Chat', Chat: { Mid: null, Message: null, Status: { State: 'delivered', Mid: 'm' }, NoEcho: true } });
    hot.push({ Type: 'Candidate', To: 'a', Candidate: { candidate: 'c', _token: 't', _id: 0, extra: { x: 1 } } });
    let count = 0;
    for (const sample of hot) {
      const paths: string[][] = [];
      for (const [k, v] of Object.entries(sample)) {
        paths.push([k]);
        if (v && typeof v === 'object') {
          for (const [k2, v2] of Object.entries(v)) {
            paths.push([k, k2]);
            if (v2 && typeof v2 === 'object') for (const k3 of Object.keys(v2).concat('Typing', 'FileInfo')) paths.push([k, k2, k3]);
          }
          paths.push([k, 'extra'], [k, '__proto__']);
        }
      }
      paths.push(['extra']);
      for (const path of paths) {
        for (const value of weird) {
          const copy = structuredClone(sample) as Record<string, any>;
          let target = copy;
          for (const key of path.slice(0, -1)) target = target[key];
          if (target === null || typeof target !== 'object') continue;
          const last = path.at(-1)!;
          if (value === undefined) delete target[last];
          else Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true });
          same(JSON.stringify({ Data: copy, From: 'a', Iid: '1' }));
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(500);
  });
});
