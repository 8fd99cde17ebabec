import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ObjectStore } from '@nats-io/obj';
import { FleetError } from './bus.js';

/** Regular files of a meeting directory (no temp files), relative paths, sorted. */
async function meetingFiles(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await meetingFiles(dir, rel)));
    else if (entry.isFile() && !entry.name.startsWith('.')) out.push(rel);
  }
  return out.sort();
}

/**
 * Puts every file of a finished meeting directory into the object store as `<jobId>/<file>`.
 * Resolves with the object names. Files are streamed, never held in memory whole.
 */
export async function uploadMeeting(store: ObjectStore, jobId: string, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of await meetingFiles(dir)) {
    const name = `${jobId}/${file}`;
    try {
      const stream = Readable.toWeb(createReadStream(join(dir, file))) as unknown as ReadableStream<Uint8Array>;
      await store.put({ name }, stream);
    } catch (error) {
      throw new FleetError('store_failed', `cannot store ${join(dir, file)} as '${name}': ${(error as Error).message}`, { cause: error });
    }
    names.push(name);
  }
  return names;
}

/**
 * Writes stored objects (`<jobId>/<file>`) into `dir` as `<file>`: each into a temp file renamed
 * into place once the object store has verified its digest. Names that would leave `dir` are refused.
 */
export async function downloadMeeting(store: ObjectStore, names: readonly string[], dir: string): Promise<string[]> {
  const root = resolve(dir);
  const written: string[] = [];
  for (const name of names) {
    const rel = name.slice(name.indexOf('/') + 1);
    const target = resolve(root, rel);
    if (!target.startsWith(root + sep) || relative(root, target).startsWith('..')) {
      throw new FleetError('store_failed', `refusing stored object '${name}': its path leaves ${dir}`);
    }
    const object = await store.get(name);
    if (!object) throw new FleetError('store_failed', `stored object '${name}' is missing from the object store`);
    await mkdir(dirname(target), { recursive: true });
    const part = `${target}.part`;
    await pipeline(Readable.fromWeb(object.data as unknown as WebReadableStream<Uint8Array>), createWriteStream(part) as Writable);
    // The object store rejects `error` when the SHA-256 of what arrived differs from the stored digest.
    const failure = await object.error;
    if (failure) throw new FleetError('store_failed', `stored object '${name}' arrived damaged: ${failure.message}`, { cause: failure });
    await rename(part, target);
    written.push(target);
  }
  return written;
}
