import { ConfigError } from './errors.js';
import type { Plugin } from './plugin.js';

/**
 * Runs every plugin's {@link Plugin.preflight} check in order, before a bot connects. A failure is
 * a {@link ConfigError} prefixed with where the plugin is configured (`bots.yaml: bots[0] (Rec):
 * plugin 'record': recordings dir '/srv/rec' is not writable (EACCES)…`).
 */
export async function preflightPlugins(plugins: readonly Plugin<any>[], where?: string): Promise<void> {
  for (const plugin of plugins) {
    if (!plugin.preflight) continue;
    const label = `${where ? `${where}: ` : ''}plugin '${plugin.name}'`;
    try {
      await plugin.preflight();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`${label}: ${error instanceof ConfigError ? reason : `check failed: ${reason}`}`, { cause: error });
    }
  }
}
