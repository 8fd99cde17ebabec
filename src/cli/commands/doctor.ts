import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  adaptedOptions,
  describeFfmpeg,
  detectFfmpegFeatures,
  featureNotes,
  locateFfmpeg,
  locateFfprobe,
  missingFor,
  repairSidecars,
  type FfmpegUse,
} from '../../media/index.js';
import { parse, str } from '../args.js';

const run = promisify(execFile);

export const doctorHelp = `Usage: spreed-bot doctor [--dir DIR]

Checks what each spreed-bot feature needs on this machine and says what to install:
Node.js, werift, ffmpeg (which one, its version, what it can do for recording, the demo's test
patterns and the mix-down), free UDP ports on 127.0.0.1 (WebRTC media), write access to the
recordings dir, and - for the tests only - ffprobe and Chromium. It also closes meeting.json
files a killed recorder left 'recording' (the files still play).
Exit code 1 when something a bot needs is missing.

Options:
  --dir DIR    recordings dir to check (default: recordings)
  -h, --help   show this help`;

/** One line of the report: a name, what was found, and whether a bot can run without it. */
interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Only the tests need it: a problem does not fail the doctor. */
  testsOnly?: boolean;
}

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

async function ffmpegChecks(): Promise<Check[]> {
  let info;
  try {
    info = await locateFfmpeg();
  } catch (error) {
    return [{ name: 'ffmpeg', ok: false, detail: `missing: ${(error as Error).message}` }];
  }
  const features = await detectFfmpegFeatures(info.path);
  const checks: Check[] = [{ name: 'ffmpeg', ok: true, detail: `${describeFfmpeg(info)}${features.libavformat ? ` (libavformat ${features.libavformat})` : ''}` }];
  const uses: [FfmpegUse, string][] = [
    ['recording', 'recording'],
    ['demo', 'demo'],
    ['mix', 'mix-down'],
    ['media-out', 'audio out'],
  ];
  for (const [use, label] of uses) {
    const missing = missingFor(features, use);
    checks.push({
      name: `  ${label}`,
      ok: missing.length === 0,
      detail: missing.length === 0 ? 'ok' : `not possible: this ffmpeg lacks ${missing.join(', ')}; install Debian's ffmpeg (apt-get install -y ffmpeg)`,
    });
  }
  for (const note of featureNotes(features)) checks.push({ name: '  note', ok: true, detail: note });
  const adapted = adaptedOptions(features);
  if (adapted.length > 0) checks.push({ name: '  adapted', ok: true, detail: `older ffmpeg, same results: ${adapted.join('; ')}` });
  return checks;
}

/** Binds a few UDP sockets on 127.0.0.1 as WebRTC (ICE) does for each call. */
async function udpCheck(): Promise<Check> {
  const sockets = Array.from({ length: 4 }, () => createSocket('udp4'));
  try {
    const ports = await Promise.all(sockets.map((s) => new Promise<number>((ok, fail) => (s.once('error', fail), s.bind(0, '127.0.0.1', () => ok(s.address().port))))));
    return { name: 'udp', ok: true, detail: `ok: bound ${ports.length} UDP ports on 127.0.0.1 (WebRTC media)` };
  } catch (error) {
    return { name: 'udp', ok: false, detail: `cannot bind UDP ports on 127.0.0.1 (${(error as Error).message}): WebRTC calls need them; check firewall/sandbox settings` };
  } finally {
    for (const s of sockets) s.close();
  }
}

/** Write access where recordings go (the dir is created like the recorder would). */
async function recordingsCheck(dir: string): Promise<Check[]> {
  const path = resolve(dir);
  try {
    await mkdir(path, { recursive: true });
    const probe = join(path, `.spreed-bot-doctor-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return [{ name: 'recordings', ok: false, detail: `${path} is not writable (${code}): choose another --dir or fix its permissions` }];
  }
  const checks: Check[] = [{ name: 'recordings', ok: true, detail: `${path} is writable` }];
  const repaired = await repairSidecars(path);
  for (const sidecar of repaired) checks.push({ name: '  repaired', ok: true, detail: `${sidecar}: a killed recorder left it 'recording'; closed it (files marked interrupted or failed)` });
  return checks;
}

async function ffprobeCheck(): Promise<Check> {
  const ffprobe = await locateFfprobe();
  return ffprobe
    ? { name: 'ffprobe', ok: true, testsOnly: true, detail: `${ffprobe.version} (${ffprobe.source}: ${ffprobe.path}; only the tests use it)` }
    : { name: 'ffprobe', ok: false, testsOnly: true, detail: 'missing: apt-get install -y ffmpeg, or npm install (dev dependency @ffprobe-installer/ffprobe); only the tests use it' };
}

async function chromiumCheck(): Promise<Check> {
  const version = existsSync('/usr/bin/chromium') ? await firstLine('/usr/bin/chromium', ['--version']) : undefined;
  return version
    ? { name: 'chromium', ok: true, testsOnly: true, detail: `${version} (only the interop tests use it)` }
    : { name: 'chromium', ok: false, testsOnly: true, detail: 'missing: apt-get install -y chromium (only the interop tests use it; never downloaded)' };
}

/** `spreed-bot doctor`. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { dir: { type: 'string' } });
  if (values.help) {
    console.log(doctorHelp);
    return 0;
  }
  const major = Number(/^v(\d+)/.exec(process.version)?.[1]);
  const werift = await packageVersion('werift');
  const checks: Check[] = [
    { name: 'node', ok: major >= 20, detail: major >= 20 ? process.version : `${process.version}: spreed-bot needs Node.js 20 or newer` },
    { name: 'werift', ok: werift !== undefined, detail: werift ?? 'missing: run npm install' },
    ...(await ffmpegChecks()),
    await udpCheck(),
    ...(await recordingsCheck(str(values, 'dir') ?? 'recordings')),
    await ffprobeCheck(),
    await chromiumCheck(),
  ];
  for (const check of checks) console.log(`${check.ok ? ' ' : check.testsOnly ? '-' : '✗'} ${check.name.padEnd(14)} ${check.detail}`);
  const problems = checks.filter((c) => !c.ok && !c.testsOnly);
  if (problems.length > 0) console.log(`\n${problems.length} problem(s): see the ✗ lines`);
  return problems.length > 0 ? 1 : 0;
}

