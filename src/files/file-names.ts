import { link, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';

const MAX_NAME_BYTES = 200;

/**
 * Turns a peer-supplied file name into a safe single path component: no separators, no control
 * characters, no leading dots (no hidden files, no `..`), at most 200 UTF-8 bytes keeping the
 * extension. Falls back to `download` when nothing is left.
 */
export function sanitizeFileName(name: string): string {
  let safe = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|]/g, '_')
    .replace(/^[\s.]+/, '')
    .replace(/[\s.]+$/, '');
  if (Buffer.byteLength(safe) > MAX_NAME_BYTES) {
    const ext = extname(safe).slice(0, 20);
    let stem = safe.slice(0, safe.length - ext.length);
    while (Buffer.byteLength(stem + ext) > MAX_NAME_BYTES) stem = stem.slice(0, -1);
    safe = stem + ext;
  }
  return safe === '' ? 'download' : safe;
}

/** `name (n).ext` for n ≥ 1, `name` for n = 0. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/**
 * Moves `from` to a free name in `dir` derived from `name` (`name`, `name (1).ext`, ...), never
 * replacing an existing file: uses `link` (atomic "create if absent"), falling back to an existence
 * check + `rename` on file systems without hard links. Returns the final path.
 */
export async function moveToFreeName(from: string, dir: string, name: string, maxTries = 1000): Promise<string> {
  for (let n = 0; n < maxTries; n++) {
    const target = join(dir, numberedName(name, n));
    try {
      await link(from, target);
      await unlink(from);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
      if (await exists(target)) continue;
      await rename(from, target);
      return target;
    }
  }
  throw new Error(`no free name for ${name} in ${dir} after ${maxTries} tries`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
