import { register } from 'node:module';
import { isAbsolute, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleHooksData } from './module-hooks.js';
import { whileLoadingModule } from './module-guard.js';

const TS_FILE = /\.(?:ts|tsx|mts|cts)$/i;
// Set by bin/spreed-bot.js (the repository's launcher) and by us: tsx must be registered once.
const TSX_REGISTERED = Symbol.for('spreed-bot.tsx-registered');
// Running from the TypeScript sources (the repository) rather than from dist/.
const fromSources = import.meta.url.endsWith('.ts');

let hooksRegistered = false;

async function registerTsx(): Promise<void> {
  const holder = globalThis as { [TSX_REGISTERED]?: boolean };
  if (holder[TSX_REGISTERED]) return;
  // Loaded lazily: `import 'spreed-bot'` and .js bot modules never load tsx or esbuild.
  const tsx = await import('tsx/esm/api');
  tsx.register();
  holder[TSX_REGISTERED] = true;
  // Hooks run last-registered first; ours must see what tsx resolved, so register them again.
  hooksRegistered = false;
}

function registerHooks(): void {
  if (hooksRegistered) return;
  const data: ModuleHooksData = {
    fallbackParentURL: import.meta.url,
    ...(fromSources ? { sourceRoot: new URL('../', import.meta.url).href } : {}),
  };
  register(new URL(`./module-hooks.${fromSources ? 'ts' : 'js'}`, import.meta.url), { data });
  hooksRegistered = true;
}

/**
 * Imports a user's bot or plugin module (`.ts`, `.mts`, `.js`, `.mjs`) from any directory and
 * returns its namespace. TypeScript is compiled by tsx, registered on the first `.ts` module;
 * `.ts` files are ES modules whatever package.json (if any) is around them. Packages the module
 * cannot find next to it (`spreed-bot` itself, `rxjs`, …) come from spreed-bot's installation.
 *
 * While the module loads, a `Bot.start()` in it throws {@link ModuleStartsBotError} before
 * connecting, and so does this function: `spreed-bot run` wants a default-exported definition.
 *
 * @param absPath - absolute path of the module
 */
export async function importUserModule(absPath: string): Promise<Record<string, unknown>> {
  if (TS_FILE.test(absPath) || fromSources) await registerTsx();
  registerHooks();
  return whileLoadingModule(shownPath(absPath), () => import(pathToFileURL(absPath).href) as Promise<Record<string, unknown>>);
}

/** The path as a user would type it here: relative to the working directory when inside it. */
function shownPath(absPath: string): string {
  const rel = relative(process.cwd(), absPath);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absPath;
}
