import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** Parses argv for a sub-command; unknown flags are usage errors naming the flag. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
