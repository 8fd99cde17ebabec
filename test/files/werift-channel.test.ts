import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { enlargeWeriftSocketBuffers } from '../../src/files/index.js';
import { openWeriftPair } from './helpers.js';

describe('fromWeriftDataChannel', () => {
  it('carries text as string and binary as Buffer, and a close to the other side', async () => {
    const { offerer, answerer } = await openWeriftPair();
    const received = firstValueFrom(answerer.message$.pipe(toArray()));
    offerer.send('{"m":"r","i":0}');
    offerer.send(Buffer.from([1, 2, 3]));
    await new Promise((r) => setTimeout(r, 200));
    offerer.close();
    offerer.close(); // idempotent
    await firstValueFrom(answerer.closed$);
    const messages = await received; // message$ completes on close
    expect(messages[0]).toBe('{"m":"r","i":0}');
    expect(Buffer.isBuffer(messages[1]) && [...messages[1]]).toEqual([1, 2, 3]);
    expect(answerer.isOpen).toBe(false);
    expect(() => answerer.send('x')).toThrow();
    await firstValueFrom(offerer.closed$); // replays to late subscribers
  });

  it('enlarges the UDP socket buffers under a peer connection', async () => {
    const { offerer, offererPc } = await openWeriftPair();
    expect(enlargeWeriftSocketBuffers(offererPc, 1024 * 1024)).toBeGreaterThan(0);
    expect(enlargeWeriftSocketBuffers({} as never)).toBe(0); // unknown shape: does nothing
    offerer.close();
  });
});
