import { z } from 'zod';
import { PluginOptionsError } from './errors.js';

/**
 * Validates a built-in plugin's options against its zod schema and returns them parsed. Throws a
 * {@link PluginOptionsError} naming each bad field, so a bad config fails at load, before any bot
 * connects, instead of at the first call.
 */
export function parsePluginOptions<S extends z.ZodTypeAny>(plugin: string, schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data as z.output<S>;
  throw new PluginOptionsError(
    plugin,
    parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: lowerFirst(issue.message) })),
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Zod pieces the plugin schemas share. */
export const optionTypes = {
  /** A duration or size in whole positive units (ms, bytes). */
  positiveInt: () => z.number().int().positive(),
  /** A non-empty path. */
  path: () => z.string().min(1, 'expected a non-empty path'),
  /** A value that must be a function (callbacks passed from code). */
  fn: <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected a function (${what})` }),
};
