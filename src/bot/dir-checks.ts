import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './errors.js';

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Makes sure `dir` exists (creating it) and that files can be written there, with a probe file
 * that is removed again. Throws a {@link ConfigError} naming the path and the cause (EACCES,
 * ENOTDIR, EROFS, …) instead of failing at the first recording or download.
 */
export async function ensureWritableDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(`${what} '${dir}' cannot be created (${codeOf(error)}): choose another folder or fix its permissions`, { cause: error });
  }
  const probe = join(dir, `.spreed-bot-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '');
  } catch (error) {
    throw new ConfigError(`${what} '${dir}' is not writable (${codeOf(error)}): choose another folder or fix its permissions`, { cause: error });
  }
  await unlink(probe).catch(() => undefined);
}

/** Makes sure `dir` is an existing, readable folder; throws a {@link ConfigError} naming it otherwise. */
export async function ensureReadableDir(dir: string, what: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (error) {
    throw new ConfigError(`${what} '${dir}' does not exist or cannot be read (${codeOf(error)})`, { cause: error });
  }
  if (!isDir) throw new ConfigError(`${what} '${dir}' is not a folder`);
  try {
    await readdir(dir);
  } catch (error) {
    throw new ConfigError(`${what} '${dir}' cannot be read (${codeOf(error)}): fix its permissions`, { cause: error });
  }
}
