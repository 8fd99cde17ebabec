import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** A path segment from a URL that may name a file or folder in the recordings directory. Pure. */
export function isSafeSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !/[/\\\0]/.test(segment);
}

/**
 * Resolves `segments` inside the recordings root, or undefined: no `..`, no separators inside a
 * segment, and the real path (symlinks followed) must still lie inside the root's real path, so a
 * symlink in the archive cannot point the console at other files.
 */
export async function resolveInRecordings(root: string, segments: readonly string[]): Promise<string | undefined> {
  if (segments.length === 0 || !segments.every(isSafeSegment)) return undefined;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, ...segments));
    return real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}
