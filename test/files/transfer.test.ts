import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileServer, SharedFiles, fetchFile, type FetchProgress } from '../../src/files/index.js';
import { LoopbackConnector, randomFile, removeDir, sameBytes, tempDir } from './helpers.js';

describe('serve + fetch round trip over werift', () => {
  let dir: string;
  let shared: SharedFiles;
  let server: FileServer;
  const connectors: LoopbackConnector[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    shared = new SharedFiles({ ownId: 'uploader' });
    server = new FileServer({ files: shared });
  });
  afterAll(async () => {
    server.close();
    await Promise.all(connectors.map((c) => c.close()));
    await removeDir(dir);
  });

  const sizes: Array<[string, number]> = [
    ['0 bytes', 0],
    ['1 byte', 1],
    ['exactly one chunk', 60_000],
    ['one chunk + 1', 60_001],
    ['10 MB + odd tail', 10 * 1024 * 1024 + 12_345],
  ];

  it.each(sizes)('%s arrives byte-identical', async (label, size) => {
    const src = join(dir, `src-${size}.bin`);
    const data = await randomFile(src, size);
    const info = await shared.share(src);
    expect(info.chunks).toBe(Math.ceil(size / 60_000));
    const connector = new LoopbackConnector(server);
    connectors.push(connector);
    const target = join(dir, `out-${size}`);
    const fetch = fetchFile({ connector, peerId: 'uploader', info, targetDir: target });
    const progress = lastValueFrom(fetch.progress$.pipe(toArray()));
    const result = await fetch.done;
    expect(result.size).toBe(size);
    expect(result.name).toBe(`src-${size}.bin`);
    expect(await sameBytes(result.path, data)).toBe(true);
    expect(await readdir(target)).toEqual([`src-${size}.bin`]); // no .part left
    const seen: FetchProgress[] = await progress;
    expect(seen.at(-1)).toMatchObject({ received: info.chunks, total: info.chunks, bytes: size });
    if (size === 0) expect(connector.opened).toBe(0);
    else expect(connector.opened).toBeGreaterThanOrEqual(1);
    expect(connector.tokens.every((t) => t === info.id)).toBe(true);
  });

  it('stop-and-wait (window 1, one connection) works like the web client', async () => {
    const src = join(dir, 'saw.bin');
    const data = await randomFile(src, 1_000_000);
    const info = await shared.share(src);
    const connector = new LoopbackConnector(server);
    connectors.push(connector);
    const result = await fetchFile({ connector, peerId: 'uploader', info, targetDir: join(dir, 'saw'), window: 1, connections: 1 }).done;
    expect(await sameBytes(result.path, data)).toBe(true);
    expect(connector.opened).toBe(1);
  });

  it('learns a foreign chunk size (16000, like non-Chrome web clients)', async () => {
    const small = new SharedFiles({ ownId: 'firefox', chunkSize: 16_000 });
    const smallServer = new FileServer({ files: small });
    const src = join(dir, 'ff.bin');
    const data = await randomFile(src, 16_000 * 7 + 5);
    const info = await small.share(src);
    const connector = new LoopbackConnector(smallServer);
    connectors.push(connector);
    const result = await fetchFile({ connector, peerId: 'firefox', info, targetDir: join(dir, 'ff'), connections: 3, window: 2 }).done;
    expect(await sameBytes(result.path, data)).toBe(true);
    smallServer.close();
  });

  it('names colliding downloads "name (1).ext" and sanitises names', async () => {
    const src = join(dir, 'report.txt');
    const data = await randomFile(src, 1000);
    const info = await shared.share(src);
    const target = join(dir, 'collide');
    const connector = new LoopbackConnector(server);
    connectors.push(connector);
    const first = await fetchFile({ connector, peerId: 'uploader', info, targetDir: target }).done;
    const second = await fetchFile({ connector, peerId: 'uploader', info, targetDir: target }).done;
    const evil = await fetchFile({ connector, peerId: 'uploader', info: { ...info, name: '../../etc/passwd' }, targetDir: target }).done;
    expect(first.name).toBe('report.txt');
    expect(second.name).toBe('report (1).txt');
    expect(evil.name).toBe('_.._etc_passwd');
    expect(evil.path.startsWith(target)).toBe(true);
    for (const r of [first, second, evil]) expect(await sameBytes(r.path, data)).toBe(true);
  });
});
