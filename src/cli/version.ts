import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version of the installed spreed-bot package: read from the nearest `package.json` named
 * `spreed-bot` above this file, so it is right from a git checkout (src/cli) and from a built
 * package (dist/src/cli) alike. `unknown` when none is found.
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spreed-bot' && pkg.version) return pkg.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
