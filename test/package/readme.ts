import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const repoRoot = join(import.meta.dirname, '../..');

/** The text of the README section `## <title>` (up to the next `## ` heading). */
export function readmeSection(title: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section '## ${title}'`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced code blocks of `text` in language `lang`, in order. */
export function codeBlocks(text: string, lang: string): string[] {
  const fence = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...text.matchAll(fence)].map((m) => m[1]!);
}

/** The ```ts block of `text` whose first line is `// <file>`. */
export function fileBlock(text: string, file: string): string {
  const block = codeBlocks(text, 'ts').find((b) => b.startsWith(`// ${file}\n`));
  if (!block) throw new Error(`no ts block starting with '// ${file}'`);
  return block;
}

/** The command lines of the ```sh blocks of `text` (comments and blank lines dropped). */
export function shellCommands(text: string): string[] {
  return codeBlocks(text, 'sh')
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}
