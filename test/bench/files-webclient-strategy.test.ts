import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadLikeWebClient } from '../../bench/fixtures/files-webclient-strategy.js';
import { FileServer, SharedFiles, parseControl, type ChunkChannel } from '../../src/files/index.js';
import { LoopbackConnector, interceptSend, randomFile, removeDir, tempDir, until } from '../files/helpers.js';

/** Server-side view of one token connection: requests seen, most outstanding at once, byes. */
interface Watched {
  requests: number[];
  maxOutstanding: number;
  byes: number;
}

/** Wraps the server side of every connection to count what the downloader asks and how much at once. */
function watching(watched: Watched[]): (channel: ChunkChannel, n: number) => ChunkChannel {
  return (channel, n) => {
    const w: Watched = { requests: [], maxOutstanding: 0, byes: 0 };
    watched[n] = w;
    let outstanding = 0;
    channel.message$.subscribe((m) => {
      if (typeof m !== 'string') return;
      const parsed = parseControl(m);
      if (!parsed.ok) return;
      if (parsed.message.m === 'bye') w.byes++;
      else {
        w.requests.push(parsed.message.i);
        w.maxOutstanding = Math.max(w.maxOutstanding, ++outstanding);
      }
    });
    return interceptSend(channel, (data, real) => {
      if (typeof data !== 'string') outstanding--;
      real(data);
    });
  };
}

describe("bench: the web client's download strategy over werift (issue 16 item 2 baseline)", () => {
  let dir: string;
  let shared: SharedFiles;
  let server: FileServer;
  const connectors: LoopbackConnector[] = [];

  beforeAll(async () => {
    dir = await tempDir('spreed-wc-strategy-');
    shared = new SharedFiles({ ownId: 'uploader' });
    server = new FileServer({ files: shared });
  });
  afterAll(async () => {
    server.close();
    await Promise.all(connectors.map((c) => c.close()));
    await removeDir(dir);
  });

  it('jobs per connection, one chunk in flight on each, extra connections by the chunks/100 rule, bye on every connection', async () => {
    const src = join(dir, 'ten.bin');
    const data = await randomFile(src, 9 * 60_000 + 123); // 10 chunks
    const info = await shared.share(src);
    const watched: Watched[] = [];
    const connector = new LoopbackConnector(server, { wrapServer: watching(watched) });
    connectors.push(connector);

    const result = await downloadLikeWebClient({ connector, peerId: 'uploader', info, jobChunks: 2, extraConnectionIntervalMs: 20 });

    expect(result.bytes.equals(data)).toBe(true);
    expect(result.chunkMs).toHaveLength(10);
    // 10 chunks / 100 ≥ n − 2 allows a connection while fewer than 3 exist: never 4 or 5.
    expect(result.connections).toBeGreaterThanOrEqual(2);
    expect(result.connections).toBeLessThanOrEqual(3);
    expect(connector.opened).toBe(result.connections);
    expect(watched.every((w) => w.maxOutstanding === 1)).toBe(true);
    // Each connection works through whole jobs of 2 chunks in index order.
    for (const w of watched) {
      for (let k = 0; k < w.requests.length; k += 2) expect(w.requests[k + 1]).toBe(w.requests[k]! + 1);
    }
    expect(watched.flatMap((w) => w.requests).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    await until(() => watched.every((w) => w.byes === 1), 5000, 'a bye on every connection');
  });

  it('fails on a corrupted chunk instead of keeping it', async () => {
    const src = join(dir, 'three.bin');
    await randomFile(src, 3 * 60_000);
    const info = await shared.share(src);
    const corrupt = (channel: ChunkChannel): ChunkChannel =>
      interceptSend(channel, (data, real) => {
        if (typeof data !== 'string' && data.readUInt32LE(4) === 1) data[20]! ^= 0xff;
        real(data);
      });
    const connector = new LoopbackConnector(server, { wrapServer: corrupt });
    connectors.push(connector);
    await expect(downloadLikeWebClient({ connector, peerId: 'uploader', info })).rejects.toThrow(/chunk 1: CRC-32/);
  });
});
