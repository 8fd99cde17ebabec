import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { moveToFreeName } from './file-names.js';

/**
 * The temporary `.name.part` file a download writes its chunks into, in the target folder, until it
 * is closed and moved to a free name or discarded.
 */
export class PartFile {
  private readonly writes = new Set<Promise<void>>();

  private constructor(
    private handle: FileHandle | undefined,
    /** Path of the part file. */
    readonly path: string,
  ) {}

  /** Creates `dir` if missing and a new part file for `name` in it. */
  static async create(dir: string, name: string): Promise<PartFile> {
    await mkdir(dir, { recursive: true });
    const { handle, path } = await openPartFile(dir, name);
    return new PartFile(handle, path);
  }

  /** Writes `payload` at `position` in the background; `onError` hears of a failed write. */
  write(position: number, payload: Buffer, onError: (cause: unknown) => void): void {
    const handle = this.handle!;
    const pending = (async () => {
      let offset = 0;
      while (offset < payload.length) {
        const { bytesWritten } = await handle.write(payload, offset, payload.length - offset, position + offset);
        offset += bytesWritten;
      }
    })()
      .catch(onError)
      .finally(() => this.writes.delete(pending));
    this.writes.add(pending);
  }

  /** Waits until no write is pending, including writes started meanwhile; failed writes went to their `onError`. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** Closes the file and returns its size on disk. */
  async close(): Promise<number> {
    const handle = this.handle!;
    this.handle = undefined;
    await handle.close();
    return (await stat(this.path)).size;
  }

  /** Moves the closed file to a free name derived from `name` in `dir`; returns the final path. */
  moveTo(dir: string, name: string): Promise<string> {
    return moveToFreeName(this.path, dir, name);
  }

  /** Lets pending writes settle, closes the file if still open and removes it. Never throws. */
  async discard(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

/** Creates `.name.part` exclusively, numbering it when another download already uses that name. */
async function openPartFile(dir: string, name: string): Promise<{ handle: FileHandle; path: string }> {
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `.${name}.part` : `.${name}.${n}.part`);
    try {
      return { handle: await open(path, 'wx'), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw err;
    }
  }
}
