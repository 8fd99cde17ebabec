import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readmeSection } from './readme.js';

// Every command and option the CLI's own help lists is documented in the README's "CLI" table.
const section = readmeSection('CLI');

async function helpOf(argv: string[]): Promise<string> {
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  try {
    expect(await main(argv)).toBe(0);
  } finally {
    log.mockRestore();
  }
  return printed.join('\n');
}

/** The README table rows for `spreed-bot <command>` (one command may have several rows, like jobs). */
function rowsOf(command: string): string {
  return section
    .split('\n')
    .filter((line) => line.startsWith(`| \`spreed-bot ${command}`))
    .join('\n');
}

afterEach(() => vi.restoreAllMocks());

describe('README "CLI"', () => {
  it('documents every command and every option of its help', async () => {
    const overview = await helpOf(['--help']);
    const commands = [...overview.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['run', 'server', 'demo', 'mix', 'doctor']));
    const undocumented: string[] = [];
    for (const command of commands) {
      const rows = rowsOf(command);
      if (!rows) {
        undocumented.push(command);
        continue;
      }
      const help = await helpOf([command, '--help']);
      const options = new Set([...help.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]).filter((o) => o !== '--help'));
      for (const option of options) if (!rows.includes(`\`${option}`)) undocumented.push(`${command} ${option}`);
    }
    expect(undocumented).toEqual([]);
  });

  it('mentions --version and --help', async () => {
    expect(await helpOf(['--version'])).toMatch(/^spreed-bot \d+\.\d+\.\d+/);
    expect(section).toContain('`spreed-bot --version`');
    expect(section).toContain('`--help`');
  });
});
