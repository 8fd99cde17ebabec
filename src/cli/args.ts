import { parseArgs } from 'node:util';

/** A CLI usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** Parsed flags and positionals of a sub-command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined> & { help?: boolean };
  positionals: string[];
}

/** Parses argv for a sub-command; unknown flags are usage errors naming the flag. */
export function parse(argv: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A string flag's value (undefined when absent). */
export function str(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
