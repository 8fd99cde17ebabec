import type { Dirent } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.js';
import { FileShareError } from './errors.js';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, chunkCount, mintFileToken, type FileInfo } from './file-info.js';
import { guessMimeType } from './mime.js';

/** One explicitly shared file, frozen at announce time. */
export interface SharedFile {
  readonly info: FileInfo;
  /** Real path (symlinks resolved) at announce time. */
  readonly path: string;
  /** Real path of the folder the file must stay inside. */
  readonly root: string;
  /** Chunk size the FileInfo was computed with. */
  readonly chunkSize: number;
  /** Size and mtime at announce; a file that differs is no longer served. */
  readonly size: number;
  readonly mtimeMs: number;
}

/** Why {@link SharedFiles.openForServing} refused. */
export type OpenRefusal = 'unknown_token' | 'outside_root' | 'changed' | 'missing';

/** Options for {@link SharedFiles}. */
export interface SharedFilesOptions {
  /** Our session id, part of every token. */
  ownId: string;
  /**
   * When set, only paths inside this folder (after resolving `..` and symlinks) may be shared.
   * @defaultValue unrestricted: each file is confined to its own folder (or the folder given to `shareFolder`)
   */
  root?: string;
  /** Payload bytes per chunk, 1..65,524. @defaultValue {@link DEFAULT_CHUNK_SIZE} (60000) */
  chunkSize?: number;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/**
 * The registry of files we announced. Nothing is served unless it was shared here explicitly; each
 * share mints a fresh token, so unsharing makes the token unknown for good.
 */
export class SharedFiles {
  readonly chunkSize: number;
  private readonly ownId: string;
  private readonly root?: string;
  private readonly logger: Logger;
  private readonly byToken = new Map<string, SharedFile>();

  constructor(options: SharedFilesOptions) {
    this.ownId = options.ownId;
    this.root = options.root === undefined ? undefined : resolve(options.root);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1 || this.chunkSize > MAX_CHUNK_SIZE) {
      throw new RangeError(`chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}, got ${this.chunkSize}`);
    }
    this.logger = options.logger ?? silentLogger;
  }

  /** Shares one regular file and returns its FileInfo (to announce in a Chat). */
  async share(path: string): Promise<FileInfo> {
    const real = await this.realOrThrow(path);
    const root = this.root === undefined ? dirname(real) : await this.realOrThrow(this.root);
    if (!isInside(real, root)) {
      this.logger.warn({ path }, 'files: refusing to share a path outside the shared folder');
      throw new FileShareError('share_outside_root', `${path} resolves outside the shared folder ${root}; share files inside it`);
    }
    return (await this.add(real, root)).info;
  }

  /**
   * Shares every regular file below `dir`, recursing into subfolders. Symlinks are followed only
   * when they resolve inside `dir`; others are skipped with a log line. Returns the FileInfos.
   */
  async shareFolder(dir: string): Promise<FileInfo[]> {
    const root = await this.realOrThrow(dir);
    if (this.root !== undefined && !isInside(root, await this.realOrThrow(this.root))) {
      throw new FileShareError('share_outside_root', `${dir} resolves outside the shared folder ${this.root}; share folders inside it`);
    }
    const st = await stat(root);
    if (!st.isDirectory()) throw new FileShareError('share_not_file', `${dir} is not a folder; use share() for files`);
    const infos: FileInfo[] = [];
    const seen = new Set<string>();
    const walk = async (folder: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch (cause) {
        this.logger.warn({ folder, err: cause }, 'files: cannot read folder, skipped');
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const full = join(folder, entry.name);
        let real: string;
        try {
          real = await realpath(full);
        } catch {
          this.logger.warn({ path: full }, 'files: dangling link, skipped');
          continue;
        }
        if (!isInside(real, root)) {
          this.logger.warn({ path: full }, 'files: link resolves outside the shared folder, skipped');
          continue;
        }
        if (seen.has(real)) continue;
        seen.add(real);
        const s = await stat(real).catch(() => undefined);
        if (s?.isDirectory()) await walk(real);
        else if (s?.isFile()) infos.push(this.addWithStat(real, root, s.size, s.mtimeMs).info);
      }
    };
    await walk(root);
    return infos;
  }

  /** Stops sharing by token, or every share of a path (after resolving it). Returns how many were removed. */
  async unshare(tokenOrPath: string): Promise<number> {
    if (this.byToken.delete(tokenOrPath)) return 1;
    const real = await realpath(tokenOrPath).catch(() => resolve(tokenOrPath));
    let removed = 0;
    for (const [token, file] of this.byToken) {
      if (file.path === real || isInside(file.path, real)) {
        this.byToken.delete(token);
        removed++;
      }
    }
    return removed;
  }

  /** The share for a token, if any. */
  get(token: string): SharedFile | undefined {
    return this.byToken.get(token);
  }

  /** True when `token` is shared; the peer layer can ignore token Offers for anything else, like the web client. */
  has(token: string): boolean {
    return this.byToken.has(token);
  }

  /** Every current share. */
  list(): SharedFile[] {
    return [...this.byToken.values()];
  }

  /**
   * Opens a shared file for reading after re-checking it: still inside its folder after resolving
   * symlinks, still the same real path, same size and mtime as announced.
   */
  async openForServing(token: string): Promise<{ ok: true; file: SharedFile; handle: FileHandle } | { ok: false; reason: OpenRefusal }> {
    const file = this.byToken.get(token);
    if (!file) return { ok: false, reason: 'unknown_token' };
    let real: string;
    try {
      real = await realpath(file.path);
    } catch {
      return { ok: false, reason: 'missing' };
    }
    if (real !== file.path || !isInside(real, file.root)) return { ok: false, reason: 'outside_root' };
    let handle: FileHandle;
    try {
      handle = await open(real, 'r');
    } catch {
      return { ok: false, reason: 'missing' };
    }
    if (!(await isUnchanged(file, handle))) {
      await handle.close().catch(() => undefined);
      return { ok: false, reason: 'changed' };
    }
    return { ok: true, file, handle };
  }

  private async realOrThrow(path: string): Promise<string> {
    try {
      return await realpath(path);
    } catch (cause) {
      throw new FileShareError('share_io', `cannot resolve ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  private async add(real: string, root: string): Promise<SharedFile> {
    const s = await stat(real);
    if (!s.isFile()) throw new FileShareError('share_not_file', `${real} is not a regular file; use shareFolder() for folders`);
    return this.addWithStat(real, root, s.size, s.mtimeMs);
  }

  private addWithStat(real: string, root: string, size: number, mtimeMs: number): SharedFile {
    const id = mintFileToken(this.ownId);
    const name = basename(real);
    const file: SharedFile = {
      info: { id, chunks: chunkCount(size, this.chunkSize), name, size, type: guessMimeType(name) },
      path: real,
      root,
      chunkSize: this.chunkSize,
      size,
      mtimeMs,
    };
    this.byToken.set(id, file);
    this.logger.debug({ token: id.slice(0, 12), name, size }, 'files: shared');
    return file;
  }
}

/** True when `file` has the size and mtime it was announced with. */
export async function isUnchanged(file: SharedFile, handle: FileHandle): Promise<boolean> {
  try {
    const s = await handle.stat();
    return s.isFile() && s.size === file.size && s.mtimeMs === file.mtimeMs;
  } catch {
    return false;
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
