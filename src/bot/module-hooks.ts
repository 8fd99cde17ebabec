/**
 * Node module hooks for bot and plugin modules, registered by `importUserModule()`. They run on
 * Node's hooks thread and make user modules load from any directory:
 *
 * - A `.ts` file outside a `"type": "module"` package (e.g. `/etc/spreed-bot/plugin.ts`, no
 *   package.json around it) is loaded as an ES module. tsx alone would hand it to the CommonJS
 *   loader, which on Node ≥ 20.19 fails with "Cannot require() ES Module … in a cycle".
 * - A `.js` file there is left to Node's own ES-module syntax detection (tsx would also send it
 *   to the CommonJS loader).
 * - A package the module imports but cannot find next to it (`spreed-bot`, `rxjs`, …) is
 *   resolved from spreed-bot's own installation, so a module outside any project needs no
 *   `npm install` of its own.
 * @internal
 */
import type { InitializeHook, ResolveFnOutput, ResolveHook } from 'node:module';

/** What `importUserModule()` hands to the hooks. */
export interface ModuleHooksData {
  /** Bare specifiers a user module cannot resolve are retried from this URL (spreed-bot's loader). */
  fallbackParentURL: string;
  /**
   * Set when spreed-bot runs from its TypeScript sources (the repository): `spreed-bot` and
   * `spreed-bot/<layer>` then resolve to `<sourceRoot><layer>/index.ts`, not to a build.
   */
  sourceRoot?: string;
}

let data: ModuleHooksData | undefined;

export const initialize: InitializeHook<ModuleHooksData> = (received) => {
  data = received;
};

const SELF = /^spreed-bot(?:\/([a-z]+))?$/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function isBare(specifier: string): boolean {
  return !specifier.startsWith('.') && !specifier.startsWith('/') && !URL_SCHEME.test(specifier);
}

/** A file of the user's own (not a dependency in node_modules). */
function isUserFile(url: string | undefined): url is string {
  return url !== undefined && url.startsWith('file:') && !url.includes('/node_modules/');
}

function userModuleFormat(resolved: ResolveFnOutput): ResolveFnOutput {
  if (!isUserFile(resolved.url)) return resolved;
  // Node ≥ 22.7 also reports 'commonjs-typescript' for .ts files (older @types/node omit it).
  const format: string | null | undefined = resolved.format;
  const commonjs = format === 'commonjs' || format === 'commonjs-typescript';
  if (/\.(?:ts|tsx|mts)$/.test(new URL(resolved.url).pathname) && format !== 'module') return { ...resolved, format: 'module' };
  if (/\.js$/.test(new URL(resolved.url).pathname) && commonjs) return { ...resolved, format: undefined };
  return resolved;
}

export const resolve: ResolveHook = async (specifier, context, next) => {
  const self = data?.sourceRoot ? SELF.exec(specifier) : null;
  if (self && data?.sourceRoot) {
    const layer = self[1] ? `${self[1]}/` : '';
    return userModuleFormat(await next(new URL(`${layer}index.ts`, data.sourceRoot).href, context));
  }
  try {
    return userModuleFormat(await next(specifier, context));
  } catch (error) {
    const notFound = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    if (!notFound || !data || !isBare(specifier) || !isUserFile(context.parentURL)) throw error;
    try {
      return await next(specifier, { ...context, parentURL: data.fallbackParentURL });
    } catch {
      throw error; // the user's own "cannot find package … imported from <their file>"
    }
  }
};
