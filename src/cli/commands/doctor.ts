import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../../media/index.js';
import { parse } from '../args.js';

const run = promisify(execFile);

export const doctorHelp = `Usage: spreed-bot doctor

Reports what spreed-bot found on this machine: Node.js, werift, ffmpeg (system or npm),
ffprobe and Chromium (used by the tests).`;

async function firstLine(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 10_000 });
    return (stdout || stderr).split('\n').find((l) => l.trim() && !l.startsWith('['))?.trim();
  } catch {
    return undefined;
  }
}

async function packageVersion(name: string): Promise<string | undefined> {
  try {
    // werift does not export its package.json: find it next to its resolved entry point.
    const require = createRequire(import.meta.url);
    let dir = dirname(require.resolve(name));
    while (!existsSync(join(dir, 'package.json')) || !dir.includes(name)) dir = dirname(dir);
    return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** `spreed-bot doctor`. */
export async function doctorCommand(argv: string[]): Promise<number> {
  if (parse(argv, {}).values.help) {
    console.log(doctorHelp);
    return 0;
  }
  const lines: [string, string][] = [['node', process.version]];
  lines.push(['werift', (await packageVersion('werift')) ?? 'missing: run npm install']);
  try {
    const ffmpeg = await locateFfmpeg();
    lines.push(['ffmpeg', `${ffmpeg.version} (${ffmpeg.source}: ${ffmpeg.path})`]);
  } catch (error) {
    lines.push(['ffmpeg', `missing: ${(error as Error).message}`]);
  }
  lines.push(['ffprobe', (await firstLine('ffprobe', ['-version'])) ?? "missing: apt-get install -y ffmpeg (only needed by the tests)"]);
  lines.push([
    'chromium',
    (existsSync('/usr/bin/chromium') && (await firstLine('/usr/bin/chromium', ['--version']))) || 'missing: apt-get install -y chromium (only needed by the tests)',
  ]);
  for (const [name, value] of lines) console.log(`${name.padEnd(9)} ${value}`);
  return 0;
}
