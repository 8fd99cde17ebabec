import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_SIZE,
  FileFetchError,
  FileServer,
  SharedFiles,
  fetchFile,
  type ChunkChannel,
  type FileInfo,
  type TokenConnector,
} from '../../src/files/index.js';
import { LoopbackConnector, captureLogger, interceptSend, randomFile, removeDir, sameBytes, tempDir, until } from './helpers.js';

function chunkIndex(data: string | Buffer): number | undefined {
  return typeof data === 'string' ? undefined : data.readUInt32LE(4);
}

describe('fetchFile resilience over werift', () => {
  let dir: string;
  let shared: SharedFiles;
  let server: FileServer;
  let data: Buffer;
  let info: FileInfo;
  const connectors: LoopbackConnector[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    shared = new SharedFiles({ ownId: 'uploader' });
    server = new FileServer({ files: shared });
    data = await randomFile(join(dir, 'src.bin'), 3 * 1024 * 1024 + 7);
    info = await shared.share(join(dir, 'src.bin'));
  });
  afterAll(async () => {
    server.close();
    await Promise.all(connectors.map((c) => c.close()));
    await removeDir(dir);
  });

  function connector(wrapServer?: (c: ChunkChannel, n: number) => ChunkChannel): LoopbackConnector {
    const c = new LoopbackConnector(server, { wrapServer });
    connectors.push(c);
    return c;
  }

  it('detects corrupted chunks by CRC and fetches them again', async () => {
    const corrupted = new Set<number>();
    const conn = connector((channel) =>
      interceptSend(channel, (msg, send) => {
        const index = chunkIndex(msg);
        if (index !== undefined && index % 7 === 3 && !corrupted.has(index)) {
          corrupted.add(index);
          const bad = Buffer.from(msg as Buffer);
          bad[CHUNK_HEADER_SIZE + (index % 1000)]! ^= 0x40; // one payload byte flipped
          return send(bad);
        }
        send(msg);
      }),
    );
    const { logger, lines } = captureLogger();
    const result = await fetchFile({ connector: conn, peerId: 'uploader', info, targetDir: join(dir, 'crc'), logger }).done;
    expect(corrupted.size).toBeGreaterThan(5);
    expect(await sameBytes(result.path, data)).toBe(true);
    expect(lines.filter((l) => l.msg.includes('CRC')).length).toBe(corrupted.size);
  });

  it('gives up with too_many_retries when a chunk is always corrupt', async () => {
    const conn = connector((channel) =>
      interceptSend(channel, (msg, send) => {
        if (chunkIndex(msg) === 2) {
          const bad = Buffer.from(msg as Buffer);
          bad[bad.length - 1]! ^= 1;
          return send(bad);
        }
        send(msg);
      }),
    );
    const target = join(dir, 'always-bad');
    const fetch = fetchFile({ connector: conn, peerId: 'uploader', info, targetDir: target, maxRetries: 3 });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_too_many_retries' });
    expect(await readdir(target)).toEqual([]); // partial file removed
  });

  it('resumes on a new connection after the sender closes one mid-transfer', async () => {
    let sentOnFirst = 0;
    const conn = connector((channel, n) =>
      n !== 0
        ? channel
        : interceptSend(channel, (msg, send) => {
            if (typeof msg !== 'string' && ++sentOnFirst === 15) {
              send(msg);
              channel.close(); // dropped: the downloader sees the data channel close
              return;
            }
            send(msg);
          }),
    );
    const { logger, lines } = captureLogger();
    const result = await fetchFile({ connector: conn, peerId: 'uploader', info, targetDir: join(dir, 'drop'), connections: 1, logger }).done;
    expect(conn.opened).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.msg.includes('connection lost'))).toBe(true);
    expect(await sameBytes(result.path, data)).toBe(true);
  });

  it('replaces a connection that silently stops delivering (request timeout)', async () => {
    let sentOnFirst = 0;
    const conn = connector((channel, n) =>
      n !== 0
        ? channel
        : interceptSend(channel, (msg, send) => {
            if (typeof msg !== 'string' && ++sentOnFirst > 10) return; // dead peer, nothing closes
            send(msg);
          }),
    );
    const result = await fetchFile({ connector: conn, peerId: 'uploader', info, targetDir: join(dir, 'stall'), connections: 1, requestTimeoutMs: 1000 }).done;
    expect(conn.opened).toBeGreaterThanOrEqual(2);
    expect(await sameBytes(result.path, data)).toBe(true);
  });

  it('uses several connections with pipelined requests on one token and says bye on each', async () => {
    const byes: number[] = [];
    const peak = { connections: 0 };
    const conn = new LoopbackConnector(server);
    connectors.push(conn);
    const counting: TokenConnector = {
      open: async (peerId, token) => {
        const n = conn.opened;
        const channel = await conn.open(peerId, token);
        peak.connections = Math.max(peak.connections, server.connectionCount);
        return interceptSend(channel, (msg, send) => {
          if (msg === '{"m":"bye"}') byes.push(n);
          send(msg);
        });
      },
    };
    const result = await fetchFile({ connector: counting, peerId: 'uploader', info, targetDir: join(dir, 'multi'), connections: 4, window: 8 }).done;
    expect(await sameBytes(result.path, data)).toBe(true);
    expect(conn.opened).toBe(4);
    expect(peak.connections).toBeGreaterThanOrEqual(2);
    expect(byes.sort()).toEqual([0, 1, 2, 3]);
    await until(() => server.connectionCount === 0, 10_000, 'server to close all connections after bye');
  });

  it('cancels: rejects with fetch_cancelled, removes the part file, closes connections', async () => {
    const conn = connector();
    const target = join(dir, 'cancel');
    const fetch = fetchFile({ connector: conn, peerId: 'uploader', info, targetDir: target, window: 1, connections: 1 });
    const sub = fetch.progress$.subscribe({ next: (p) => p.received === 3 && fetch.cancel(), error: () => undefined });
    const err = await fetch.done.catch((e: unknown) => e);
    sub.unsubscribe();
    expect(err).toBeInstanceOf(FileFetchError);
    expect((err as FileFetchError).code).toBe('fetch_cancelled');
    await until(() => server.connectionCount === 0, 10_000, 'server connections closed');
    expect(await readdir(target)).toEqual([]);
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    const fetch = fetchFile({ connector: connector(), peerId: 'uploader', info, targetDir: join(dir, 'aborted'), signal: controller.signal });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_cancelled' });
  });

  it('fails after repeated connection failures (unknown token)', async () => {
    const conn = connector();
    const unknown = { ...info, id: 'e'.repeat(96) };
    const fetch = fetchFile({ connector: conn, peerId: 'uploader', info: unknown, targetDir: join(dir, 'unknown'), maxConnectionFailures: 2, connections: 1 });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_connect_failed' });
    expect(conn.opened).toBe(3);
  });

  it('fails when opening connections keeps failing', async () => {
    let calls = 0;
    const failing: TokenConnector = {
      open: async () => {
        calls++;
        throw new Error('peer went away');
      },
    };
    const fetch = fetchFile({ connector: failing, peerId: 'gone', info, targetDir: join(dir, 'gone'), maxConnectionFailures: 2, connections: 1 });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_connect_failed' });
    expect(calls).toBe(3);
  });

  it('rejects an invalid FileInfo without connecting', async () => {
    let calls = 0;
    const never: TokenConnector = {
      open: async () => {
        calls++;
        throw new Error('unreachable');
      },
    };
    const fetch = fetchFile({ connector: never, peerId: 'x', info: { ...info, chunks: 1 }, targetDir: join(dir, 'bad') });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_bad_file_info' });
    expect(calls).toBe(0);
  });

  it('fails with fetch_protocol when the sender chunk size does not fit the FileInfo', async () => {
    const lying = { ...info, chunks: Math.ceil(info.size / 16_000) }; // claims 16000-byte chunks, sends 60000
    const fetch = fetchFile({ connector: connector(), peerId: 'uploader', info: lying, targetDir: join(dir, 'lying') });
    await expect(fetch.done).rejects.toMatchObject({ code: 'fetch_protocol' });
  });
});
