import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { BotOptions } from './bot.js';
import type { BotDefinition } from './define.js';
import { importUserModule } from './module-loader.js';
import { ConfigError, PluginOptionsError } from './errors.js';
import type { Plugin } from './plugin.js';
import { builtinPlugins } from './plugins/index.js';
import { preflightPlugins } from './preflight.js';

export { ConfigError, PluginOptionsError } from './errors.js';

const PluginRef = z.union([
  z.string().min(1),
  z
    .object({
      /** Built-in plugin name, or a label for a module plugin. */
      name: z.string().min(1).optional(),
      /** Path of a module whose default export is a Plugin or a factory `(options) => Plugin`. */
      module: z.string().min(1).optional(),
      options: z.record(z.unknown()).optional(),
    })
    .strict()
    .refine((p) => p.name || p.module, { message: 'a plugin needs a name (built-in) or a module path' }),
]);

const BotEntry = z
  .object({
    name: z.string().min(1).max(100),
    room: z.string().max(1024).default(''),
    server: z.string().url().optional(),
    pin: z.string().optional(),
    /** A bot module (like bots/echo.ts) whose default export is a BotDefinition. */
    module: z.string().optional(),
    status: z.object({ buddyPicture: z.string().nullish(), message: z.string().nullish() }).passthrough().optional(),
    plugins: z.array(PluginRef).default([]),
  })
  .strict();

/** The configuration file: one bot at the top level, or several under `bots`. */
export const ConfigFile = z
  .object({
    server: z.string().url().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    health: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
        /** Recordings folder the operator console lists. */
        recordings: z.string().min(1).default('recordings'),
        /** Console token (else SPREED_CONSOLE_TOKEN); required to serve the console off loopback. */
        token: z.string().min(16, 'use a token of at least 16 characters').optional(),
      })
      .strict()
      .optional(),
    drainTimeoutMs: z.number().int().positive().optional(),
    bots: z.array(BotEntry).min(1).optional(),
    // single-bot form
    name: z.string().optional(),
    room: z.string().optional(),
    pin: z.string().optional(),
    module: z.string().optional(),
    status: BotEntry.shape.status,
    plugins: z.array(PluginRef).optional(),
  })
  .strict();

export type ConfigFileShape = z.infer<typeof ConfigFile>;
export type BotEntryShape = z.infer<typeof BotEntry>;

/** Command-line / environment overrides. */
export interface Overrides {
  server?: string;
  room?: string;
  pin?: string;
  name?: string;
}

/** The resolved configuration of a run. */
export interface ResolvedConfig {
  bots: Omit<BotOptions, 'logger'>[];
  logLevel?: ConfigFileShape['logLevel'];
  health?: { host: string; port: number; recordings: string; token?: string };
  drainTimeoutMs?: number;
  /** Overrides that were ignored, one readable line each, for the caller to log. */
  warnings?: string[];
}

const flagOf: Record<keyof Overrides, string> = { server: '--server', room: '--room', pin: '--pin', name: '--name' };
const envOf: Record<keyof Overrides, string> = { server: 'SPREED_SERVER', room: 'SPREED_ROOM', pin: 'SPREED_PIN', name: 'SPREED_NAME' };

/**
 * With a `bots` list only the server can apply to every bot: one room, name or PIN for all of
 * them is never what was meant. Such a flag is an error; such an environment variable (often
 * set for another config) is ignored with a warning.
 */
function perBotOverrideWarnings(target: string, count: number, flags: Overrides, env: Overrides): string[] {
  const fields = ['room', 'name', 'pin'] as const;
  const flag = fields.find((f) => flags[f] !== undefined);
  if (flag) throw new ConfigError(`${target}: ${flagOf[flag]} applies to a single-bot config, but this file lists ${count} bots: set '${flag}' per bot in the file`);
  return fields
    .filter((f) => env[f] !== undefined)
    .map((f) => `${envOf[f]} is ignored: ${target} lists ${count} bots, so '${f}' is taken from each bot's entry in the file`);
}

function formatZodError(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => `${source}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`)
    .join('\n');
}

/** Reads overrides from the environment: SPREED_SERVER, SPREED_ROOM, SPREED_PIN, SPREED_NAME. */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): Overrides {
  return { server: env.SPREED_SERVER, room: env.SPREED_ROOM, pin: env.SPREED_PIN, name: env.SPREED_NAME };
}

async function importDefault(path: string, baseDir: string): Promise<unknown> {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    const mod = (await importUserModule(abs)) as { default?: unknown };
    return mod.default;
  } catch (error) {
    throw new ConfigError(`cannot load module '${path}': ${(error as Error).message}`, { cause: error });
  }
}

function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && typeof (value as Plugin).setup === 'function' && typeof (value as Plugin).name === 'string';
}

async function resolvePlugin(ref: z.infer<typeof PluginRef>, baseDir: string, where: string): Promise<Plugin> {
  const spec = typeof ref === 'string' ? { name: ref } : ref;
  const options = spec.options ?? {};
  if (spec.module) {
    const exported = await importDefault(spec.module, baseDir);
    const plugin = typeof exported === 'function' ? (exported as (o: unknown) => unknown)(options) : exported;
    if (!isPlugin(plugin)) throw new ConfigError(`${where}: module '${spec.module}' does not export a plugin ({name, setup}) or a factory returning one`);
    return plugin;
  }
  const factory = builtinPlugins[spec.name as keyof typeof builtinPlugins];
  if (!factory) {
    throw new ConfigError(`${where}: unknown plugin '${spec.name}'. Built-in plugins: ${Object.keys(builtinPlugins).join(', ')}; or give {module: './path.ts'}`);
  }
  try {
    return (factory as (o: unknown) => Plugin)(options);
  } catch (error) {
    // Name where the plugin is configured: `bots.yaml: plugins[1] (record).options.dir: expected string`.
    if (error instanceof PluginOptionsError) throw new ConfigError(`${where} (${spec.name}).${error.detail}`, { cause: error });
    throw error;
  }
}

async function loadDefinition(path: string, baseDir: string, where: string): Promise<BotDefinition> {
  const exported = await importDefault(path, baseDir);
  const value = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  if (typeof value !== 'object' || value === null || typeof (value as BotDefinition).name !== 'string') {
    throw new ConfigError(`${where}: module '${path}' must default-export a bot definition (defineBot({ name, plugins, … }))`);
  }
  const plugins = (value as BotDefinition).plugins ?? [];
  plugins.forEach((p, i) => {
    if (!isPlugin(p)) throw new ConfigError(`${where}: module '${path}': plugins[${i}] is not a plugin ({name, setup})`);
  });
  return value as BotDefinition;
}

function finish(partial: Partial<Omit<BotOptions, 'logger'>>, where: string): Omit<BotOptions, 'logger'> {
  if (!partial.server) throw new ConfigError(`${where}: field 'server' is required (config file, SPREED_SERVER or --server)`);
  if (!/^wss?:\/\//.test(partial.server)) throw new ConfigError(`${where}: field 'server' must be a ws:// or wss:// URL, got '${partial.server}'`);
  if (!partial.name) throw new ConfigError(`${where}: field 'name' is required`);
  return { server: partial.server, room: partial.room ?? '', name: partial.name, ...partial } as Omit<BotOptions, 'logger'>;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Resolves what `spreed-bot run <target>` runs: a config file (.json/.yaml/.yml) with one or
 * several bots, or a bot module (.ts/.js) whose default export is a {@link BotDefinition}.
 * Precedence: command-line flags, then environment, then the file.
 */
export async function loadRunConfig(target: string, flags: Overrides = {}, env: Overrides = envOverrides()): Promise<ResolvedConfig> {
  const path = resolve(target);
  const baseDir = resolve(path, '..');
  const overrides = { ...defined(env), ...defined(flags) };
  const ext = extname(path).toLowerCase();
  if (['.ts', '.js', '.mjs', '.mts'].includes(ext)) {
    const def = await loadDefinition(path, baseDir, target);
    await preflightPlugins(def.plugins ?? [], target);
    return { bots: [finish({ ...def, ...overrides }, target)] };
  }
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw new ConfigError(`${target}: expected a .json, .yaml or .yml config file or a .ts/.js bot module`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file '${target}': ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${target}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = ConfigFile.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatZodError(parsed.error, target));
  const file = parsed.data;
  const entries: BotEntryShape[] = file.bots ?? [
    BotEntry.parse(defined({ name: file.name ?? overrides.name ?? 'spreed-bot', room: file.room, pin: file.pin, module: file.module, status: file.status, plugins: file.plugins ?? [] })),
  ];
  const warnings = file.bots ? perBotOverrideWarnings(target, file.bots.length, flags, env) : [];
  const bots: Omit<BotOptions, 'logger'>[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = file.bots ? `${target}: bots[${i}] (${entry.name})` : target;
    const base = entry.module ? await loadDefinition(entry.module, baseDir, where) : undefined;
    const plugins = [...(base?.plugins ?? [])];
    for (const [j, ref] of entry.plugins.entries()) plugins.push(await resolvePlugin(ref, baseDir, `${where}: plugins[${j}]`));
    // Folders the plugins need are checked now, before any bot connects (exit 2 naming the path).
    await preflightPlugins(plugins, where);
    // Flags > environment > file; with a bots list only the server is overridden (see perBotOverrideWarnings).
    const perBot = defined({ name: entry.name, room: entry.room, pin: entry.pin, server: entry.server ?? file.server, status: entry.status });
    const merged = { ...base, ...perBot, ...(file.bots ? defined({ server: overrides.server }) : overrides) };
    bots.push(finish({ ...merged, plugins }, where));
  }
  return { bots, logLevel: file.logLevel, health: file.health, drainTimeoutMs: file.drainTimeoutMs, ...(warnings.length ? { warnings } : {}) };
}
