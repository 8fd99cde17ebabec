import { appendFile, mkdir, rename, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstValueFrom, take, toArray, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FileServer,
  SharedFiles,
  decodeChunk,
  requestMessage,
  type ChunkChannel,
  type FileInfo,
  type ServingConnection,
} from '../../src/files/index.js';
import { captureLogger, openWeriftPair, randomFile, removeDir, tempDir, until } from './helpers.js';

type Lines = ReturnType<typeof captureLogger>['lines'];

/** Indices of the next `n` chunks received on `channel`. */
function nextChunks(channel: ChunkChannel, n: number): Promise<Array<{ index: number; payload: Buffer }>> {
  return firstValueFrom(
    (channel.message$ as Observable<Buffer>).pipe(take(n), toArray()),
  ).then((msgs) =>
    msgs.map((m) => {
      const d = decodeChunk(m);
      if (!d.ok) throw d.error;
      return { index: d.chunk.index, payload: Buffer.from(d.chunk.payload) };
    }),
  );
}

function linesFor(lines: Lines, reason: string): number {
  return lines.filter((l) => l.reason === reason).length;
}

describe('FileServer over werift', () => {
  let dir: string;
  let shared: SharedFiles;
  let server: FileServer;
  let lines: Lines;
  let data: Buffer;
  let info: FileInfo;
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    dir = await tempDir();
    const cap = captureLogger();
    lines = cap.lines;
    shared = new SharedFiles({ ownId: 'uploader', logger: cap.logger });
    server = new FileServer({ files: shared, logger: cap.logger });
    data = await randomFile(join(dir, 'five.bin'), 4 * 60_000 + 99);
    info = await shared.share(join(dir, 'five.bin'));
  });
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });
  afterAll(async () => {
    server.close();
    await removeDir(dir);
  });

  async function connectServed(token: string): Promise<{ client: ChunkChannel; served: ServingConnection }> {
    const { offerer, answerer } = await openWeriftPair();
    closers.push(() => {
      offerer.close();
      answerer.close();
    });
    return { client: offerer, served: server.serve(answerer, token, { id: 'test-downloader' }) };
  }

  async function connect(token: string): Promise<ChunkChannel> {
    return (await connectServed(token)).client;
  }

  it('answers pipelined requests in order with correct chunks', async () => {
    const client = await connect(info.id);
    const order = [4, 0, 3, 1, 2, 2];
    const got = nextChunks(client, order.length);
    for (const i of order) client.send(requestMessage(i));
    const chunks = await got;
    expect(chunks.map((c) => c.index)).toEqual(order);
    for (const c of chunks) expect(c.payload.equals(data.subarray(c.index * 60_000, (c.index + 1) * 60_000))).toBe(true);
  });

  it('reads ahead of a downloader with one request in flight (the web client) once it asks in order', async () => {
    const { client, served } = await connectServed(info.id);
    const askOneByOne = async (indices: number[]) => {
      for (const i of indices) {
        const got = nextChunks(client, 1);
        client.send(requestMessage(i));
        const [chunk] = await got;
        expect(chunk!.index).toBe(i);
        expect(chunk!.payload.equals(data.subarray(i * 60_000, (i + 1) * 60_000))).toBe(true);
      }
    };
    // Out of order (another connection takes the chunks in between): nothing is read ahead.
    await askOneByOne([4, 0, 2]);
    expect(served.readAheadHits).toBe(0);
    // 3 follows 2, so 4 is read before it is asked for; after the jump back, 1 follows 0, so 2 is.
    await askOneByOne([3, 4, 0, 1, 2]);
    expect(served.readAheadHits).toBe(2);
  });

  it('gives out-of-range and malformed requests no reply and logs each reason once', async () => {
    const before = linesFor(lines, 'out_of_range');
    const client = await connect(info.id);
    const got = nextChunks(client, 2);
    for (const text of ['{"m":"r","i":5}', '{"m":"r","i":4294967295}', '{"m":"r","i":5}', '{"m":"r"}', '{"m":"r","i":-3}', '{"m":"zz"}', '{"m":"zz"}']) client.send(text);
    client.send(requestMessage(1));
    client.send(requestMessage(0));
    expect((await got).map((c) => c.index)).toEqual([1, 0]); // served in order: nothing came for the bad ones
    expect(linesFor(lines, 'out_of_range') - before).toBe(1);
    expect(linesFor(lines, 'bad_request')).toBe(1);
    expect(linesFor(lines, 'unknown_mode')).toBe(1);
    expect(client.isOpen).toBe(true);
  });

  it('refuses an unknown token with one log line and closes', async () => {
    const client = await connect('f'.repeat(96));
    client.send(requestMessage(0));
    await firstValueFrom(client.closed$);
    expect(linesFor(lines, 'unknown_token')).toBe(1);
  });

  it.each([
    ['binary data', Buffer.from([0, 0, 0, 0])],
    ['invalid JSON', '{"m":"r",'],
    ['a huge message', `{"m":"r","i":0,"x":"${'a'.repeat(60_000)}"}`],
    ['bye', '{"m":"bye"}'],
  ])('closes the connection on %s', async (_label, message) => {
    const client = await connect(info.id);
    client.send(message);
    await firstValueFrom(client.closed$);
    expect(client.isOpen).toBe(false);
  });

  it('serves several concurrent connections on one token with pipelined requests', async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(info.id)));
    await until(() => server.connectionCount >= 4, 5000, '4 connections');
    const results = await Promise.all(
      clients.map(async (client, k) => {
        const order = [0, 1, 2, 3, 4].map((i) => (i + k) % 5);
        const got = nextChunks(client, 5);
        for (const i of order) client.send(requestMessage(i));
        const chunks = await got;
        expect(chunks.map((c) => c.index)).toEqual(order);
        const file = Buffer.alloc(info.size);
        for (const c of chunks) c.payload.copy(file, c.index * 60_000);
        return file;
      }),
    );
    for (const file of results) expect(file.equals(data)).toBe(true);
  });

  it('refuses a file changed since it was announced (size or mtime)', async () => {
    const path = join(dir, 'changing.bin');
    await randomFile(path, 70_000);
    const grown = await shared.share(path);
    await appendFile(path, 'x');
    const touchedPath = join(dir, 'touched.bin');
    await randomFile(touchedPath, 70_000);
    const touched = await shared.share(touchedPath);
    await utimes(touchedPath, new Date(), new Date(Date.now() + 60_000));

    for (const token of [grown.id, touched.id]) {
      const client = await connect(token);
      const replies: unknown[] = [];
      client.message$.subscribe((m) => replies.push(m));
      const before = linesFor(lines, 'changed');
      client.send(requestMessage(0));
      client.send(requestMessage(1));
      await until(() => linesFor(lines, 'changed') > before, 5000, 'changed log');
      // a good request on another connection is answered, showing the server is alive
      const witness = await connect(info.id);
      const ok = nextChunks(witness, 1);
      witness.send(requestMessage(0));
      await ok;
      expect(replies).toEqual([]);
      expect(linesFor(lines, 'changed') - before).toBe(1);
    }
  });

  it('refuses a shared file replaced by a symlink leading out of its folder', async () => {
    const folder = join(dir, 'box');
    await mkdir(folder);
    await randomFile(join(folder, 'doc.txt'), 1000);
    const [doc] = await shared.shareFolder(folder);
    await writeFile(join(dir, 'secret.txt'), Buffer.alloc(1000, 0x53));
    await rename(join(folder, 'doc.txt'), join(folder, 'doc.old'));
    await symlink(join(dir, 'secret.txt'), join(folder, 'doc.txt'));
    const client = await connect(doc!.id);
    const replies: unknown[] = [];
    client.message$.subscribe((m) => replies.push(m));
    client.send(requestMessage(0));
    client.send(requestMessage(0));
    await until(() => linesFor(lines, 'outside_root') > 0, 5000, 'outside_root log');
    const witness = await connect(info.id);
    const ok = nextChunks(witness, 1);
    witness.send(requestMessage(0));
    await ok;
    expect(replies).toEqual([]);
    expect(linesFor(lines, 'outside_root')).toBe(1);
  });
});
