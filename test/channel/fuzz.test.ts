import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { parseDocument, type Received } from '../../src/protocol/index.js';
import { channel, closeAll, next } from './helpers.js';
import { hostileFrames, rng, samples } from './hostile-frames.js';

/*
 * A hostile server: after a valid Self it sends well over 10,000 malformed frames (random JSON,
 * wrong types, huge strings, prototype keys, deep nesting, binary, mutated valid documents). The
 * channel must stay up, never hand an invalid document to a subscriber, never leave an unhandled
 * rejection, and not grow without bound.
 */

describe('Channel fuzz', () => {
  afterAll(closeAll);

  it('survives 12,000 hostile frames: no crash, no invalid doc to subscribers, bounded memory', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const frames = hostileFrames(12_000, rng(1234));
    wss.on('connection', (socket) => {
      socket.send(JSON.stringify({ Data: samples[0], From: 'hostile' }));
      for (const frame of frames) socket.send(frame, { binary: Buffer.isBuffer(frame) });
      socket.send(JSON.stringify({ Data: { To: '', Type: 'Chat', Chat: { Message: 'sentinel' } }, From: 'b' }));
    });
    const logLines: { msg: string; reason?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
    const c = channel(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, { aliveIdleMs: 60_000, deadAfterMs: 120_000, logger });
    const heapBefore = process.memoryUsage().heapUsed;
    let delivered = 0;
    const invalid: string[] = [];
    c.documents$.subscribe((received: Received) => {
      delivered++;
      const again = parseDocument(received.doc);
      if (!again.ok || again.value.kind !== received.kind) invalid.push(again.ok ? `kind ${received.kind}` : again.reason);
      if (typeof received.from !== 'string' || typeof received.to !== 'string') invalid.push('envelope');
      if (received.iid !== undefined && typeof received.iid !== 'string') invalid.push('iid');
    });
    const sentinel = next(c.documents$, (r) => r.kind === 'Chat' && r.doc.Chat.Message === 'sentinel', 'sentinel', 50_000);
    const states: string[] = [];
    c.state$.subscribe((s) => states.push(s.status));
    // A pending request must survive the noise (a hostile Error with a guessed Iid may reject it, nothing else).
    await c.connect();
    const pending = c.request({ Type: 'Users' }, { timeoutMs: 100 }).catch((e: unknown) => e);
    await sentinel;
    await pending;
    const heapAfter = process.memoryUsage().heapUsed;
    process.off('unhandledRejection', onUnhandled);
    await c.close();
    await new Promise((r) => wss.close(r));

    expect(invalid).toEqual([]);
    expect(delivered).toBeGreaterThan(100); // mutated documents that are still valid come through
    expect(delivered).toBeLessThan(frames.length);
    expect(unhandled).toEqual([]);
    // Exactly one log line per dropped frame, naming why.
    const drops = logLines.filter((l) => l.msg.includes('dropped'));
    expect(drops.length).toBe(frames.length + 2 - delivered);
    expect(drops.filter((l) => l.reason).length).toBeGreaterThan(frames.length / 2);
    expect(states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(heapAfter - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });
});
