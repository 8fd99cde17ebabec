import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { f, useServer } from './setup.js';
import type { TestClient } from './client.js';

const env = useServer();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Seeded PRNG (mulberry32) so a failing run can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['Self', 'Hello', 'Offer', 'Candidate', 'Answer', 'Users', 'Authentication', 'Bye', 'Status', 'Chat', 'Conference', 'Alive', 'Sessions', 'Room', 'Leave'];

function generator(seed: number, ids: () => string[]) {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const str = (): string =>
    pick(['', 'a', '<&>', '\u2028', '\ud800', 'conference/x', 'Room', '__proto__', 'x'.repeat(Math.floor(rnd() * 3000)), ...ids()]);
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.2) return pick([null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 64, str()]);
    if (r < 0.4) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const obj: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--) {
      obj[pick(['Type', 'type', 'To', 'Name', 'Credentials', 'PIN', 'Status', 'Message', 'Mid', 'NoEcho', 'Conference', 'Alive', 'Sessions', 'Token', '__proto__', 'constructor', 'prototype', 'FileInfo', 'sdp'])] = value(depth + 1);
    }
    return obj;
  };
  const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
  return (): string => {
    const r = rnd();
    const type = pick(TYPES);
    if (r < 0.1) return pick(['{', '}', '[]', 'null', '"x"', '{"Type":', '\u0000', '{"Type":"Hello","Hello":{"Name":"a"', '{}{}']);
    if (r < 0.13) return `{"Type":"Offer","Offer":{"To":"${pick(ids())}","Type":"Offer","Offer":${deep(Math.floor(rnd() * 12_000), '{"a":', '}').replace(/}$/, '1}')}}}`;
    if (r < 0.18) return deep(10_001 + Math.floor(rnd() * 50_000), '[', ']');
    if (r < 0.185) return JSON.stringify({ Type: 'Chat', Chat: { To: pick(ids()), Type: 'Chat', Chat: { Message: 'z'.repeat(100_000 + Math.floor(rnd() * 900_000)) } } });
    if (r < 0.23) return `{"__proto__":{"Type":"Self"},"Type":"${type}","${type}":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`;
    if (r < 0.5) return JSON.stringify({ Type: type, [type]: value(0), Iid: pick([undefined, 'i', 5, null]) });
    // Mostly well-formed frames with hostile values, so handlers get past the parser.
    switch (type) {
      case 'Hello':
        return JSON.stringify({ Type: 'Hello', Hello: { Name: str(), Type: pick(['', 'Conference', str()]), Ua: str(), Credentials: pick([undefined, null, {}, { PIN: str() }]) }, Iid: 'h' });
      case 'Room':
        return JSON.stringify({ Type: 'Room', Room: { Name: str(), Type: pick(['', 'Room', 'Conference']), Credentials: pick([undefined, null, { PIN: str() }]) } });
      case 'Chat':
        return JSON.stringify(f.chat(pick(['', ...ids(), str()]), { Message: str(), Mid: pick([undefined, null, str()]), NoEcho: rnd() < 0.5, Status: pick([null, value(1), { Typing: 'start', SeenMids: [str()] }]) }));
      case 'Conference':
        return JSON.stringify(f.conference(str(), Array.from({ length: Math.floor(rnd() * 120) }, () => pick(ids()))));
      case 'Status':
        return JSON.stringify(f.status(value(0)));
      case 'Sessions':
        return JSON.stringify({ Type: 'Sessions', Sessions: { Type: 'Sessions', Sessions: { Type: pick(['session', 'contact', str()]), Token: str() } }, Iid: 's' });
      case 'Offer':
      case 'Answer':
      case 'Candidate':
      case 'Bye':
        return JSON.stringify({ Type: type, [type]: { To: pick(ids()), Type: type, [type]: value(0) } });
      default:
        return JSON.stringify({ Type: type, [type]: value(0) });
    }
  };
}

describe('fuzz', () => {
  it('survives 10,000+ hostile frames from several clients with bounded memory', { timeout: 180_000 }, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const server = await env.start({ inboundFramesPerSecond: 0, emptyRoomTtlMs: 100 });
      const clients: TestClient[] = [];
      for (let i = 0; i < 5; i++) clients.push(await env.connect(server));
      const ids = () => clients.map((c) => c.id).concat(['', 'nobody']);
      gc();
      const heapBefore = process.memoryUsage().heapUsed;

      const perClient = 2100;
      await Promise.all(
        clients.map(async (client, index) => {
          const next = generator(1000 + index, ids);
          for (let i = 0; i < perClient; i++) {
            client.send(next());
            // Keep the socket buffers bounded and give the server turns to run.
            if (i % 200 === 199) await client.sync(60_000);
            client.drain();
          }
        }),
      );
      for (const client of clients) {
        expect(client.ws.readyState).toBe(client.ws.OPEN);
        await client.sync(60_000);
        client.drain();
      }
      expect(server.stats.framesIn).toBeGreaterThanOrEqual(10_000);
      expect(server.sessionCount).toBe(5);
      expect(unhandled).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      gc();
      const growth = process.memoryUsage().heapUsed - heapBefore;
      console.log(`fuzz: ${server.stats.framesIn} frames in, ${server.stats.framesDropped} dropped, heap growth ${(growth / 1048576).toFixed(1)} MiB`);
      expect(growth).toBeLessThan(64 * 1024 * 1024);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
