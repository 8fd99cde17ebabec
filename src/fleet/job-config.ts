import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BotOptions } from '../bot/bot.js';
import { ConfigError, loadRunConfig, type Overrides } from '../bot/config.js';
import type { JobBot } from './job.js';

type RunnableBot = Omit<BotOptions, 'logger'>;

function absolute(path: unknown, baseDir: string): unknown {
  return typeof path === 'string' && !isAbsolute(path) ? resolve(baseDir, path) : path;
}

/** Module paths made absolute, so a worker in another directory finds the same files. */
function withAbsoluteModules(bot: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const plugins = Array.isArray(bot.plugins)
    ? bot.plugins.map((p) => (typeof p === 'object' && p !== null && 'module' in p ? { ...p, module: absolute((p as { module: unknown }).module, baseDir) } : p))
    : bot.plugins;
  return Object.fromEntries(Object.entries({ ...bot, module: absolute(bot.module, baseDir), plugins }).filter(([, v]) => v !== undefined));
}

/**
 * Resolves a job's bot definition with the same schema and checks as `spreed-bot run` (plugins,
 * their options, modules). The worker's environment (`SPREED_*`) does not apply: a job is what was
 * submitted. Rejects with a {@link ConfigError} naming the field.
 */
export async function resolveJobBot(bot: JobBot, where: string): Promise<RunnableBot> {
  // loadRunConfig reads files: hand it the definition as one, so every check it does applies.
  const dir = await mkdtemp(join(tmpdir(), 'spreed-job-'));
  try {
    const file = join(dir, 'job.json');
    await writeFile(file, JSON.stringify(bot));
    const config = await loadRunConfig(file, {}, {}).catch((error: unknown) => {
      if (error instanceof ConfigError) throw new ConfigError(error.message.split(file).join(where), { cause: error });
      throw error;
    });
    return config.bots[0]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Reads a job file: a `spreed-bot run` config with exactly one bot (top-level or one entry under
 * `bots`). It is validated completely (as `run` would) before it is accepted; module paths become
 * absolute; `overrides` (`--server`, `--room`, `--pin`, `--name`) win over the file. Rejects with a {@link ConfigError} naming the problem.
 */
export async function readJobFile(path: string, overrides: Overrides = {}): Promise<JobBot> {
  const resolved = await loadRunConfig(path, overrides, {});
  if (resolved.bots.length !== 1) throw new ConfigError(`${path}: a job is one bot, but the file defines ${resolved.bots.length}; submit one file per bot`);
  const text = await readFile(path, 'utf8');
  const raw = (extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>;
  const { bots, logLevel: _l, health: _h, drainTimeoutMs: _d, ...top } = raw;
  const entry = Array.isArray(bots) ? { server: raw.server, ...(bots[0] as Record<string, unknown>) } : top;
  // The bot's name and server as `run` resolved them (the file may leave the name to defaults).
  const flags = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const bot = withAbsoluteModules({ ...entry, ...flags, name: resolved.bots[0]!.name, server: resolved.bots[0]!.server }, dirname(resolve(path)));
  return bot as JobBot;
}
