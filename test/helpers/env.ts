import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** True when running in CI (`CI=true`): there, missing tools are failures, never skips. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `SPREED_BOT_TEST_FFMPEG=bundled` (the second test pass, `npm run test:bundled-ffmpeg`): run as
 * on a machine with Node only. PATH is replaced by one without `ffmpeg`/`ffprobe`, so
 * `locateFfmpeg()` (here and in child processes) takes `@ffmpeg-installer/ffmpeg`, and the tests'
 * ffprobe is `@ffprobe-installer/ffprobe`.
 */
export const bundledFfmpegPass = process.env.SPREED_BOT_TEST_FFMPEG === 'bundled';

function npmBinary(pkg: string): string | undefined {
  try {
    const path = (createRequire(import.meta.url)(pkg) as { path: string }).path;
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A directory of symlinks to everything on `path` except `exclude` (first match wins, as a shell
 * would find it), built once per PATH and reused. /bin is /usr/bin on Debian, so leaving a
 * directory out is not enough.
 */
export function pathWithout(exclude: readonly string[], path = process.env.PATH ?? ''): string {
  const dirs = path.split(delimiter).filter(Boolean);
  const id = createHash('sha256').update(`${exclude.join(',')}\0${path}`).digest('hex').slice(0, 12);
  const target = join(tmpdir(), `spreed-bot-path-without-${exclude.join('-')}-${id}`);
  if (existsSync(target)) return target;
  const building = `${target}.${process.pid}.tmp`;
  mkdirSync(building, { recursive: true });
  const seen = new Set(exclude);
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(dir, name), join(building, name));
    }
  }
  try {
    renameSync(building, target);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another worker built it first
  }
  return target;
}

if (bundledFfmpegPass && !process.env.SPREED_BOT_TEST_PATH_WITHOUT_FFMPEG) {
  process.env.PATH = pathWithout(['ffmpeg', 'ffprobe']);
  process.env.SPREED_BOT_TEST_PATH_WITHOUT_FFMPEG = process.env.PATH;
}

/** The ffmpeg the tests' own helpers run (fixtures): the system one, or the bundled one in the second pass. */
export const ffmpegPath = bundledFfmpegPass ? (npmBinary('@ffmpeg-installer/ffmpeg') ?? 'ffmpeg-bundled-missing') : 'ffmpeg';
/** The ffprobe the tests check files with: the system one, or `@ffprobe-installer/ffprobe` in the second pass. */
export const ffprobePath = bundledFfmpegPass ? (npmBinary('@ffprobe-installer/ffprobe') ?? 'ffprobe-bundled-missing') : 'ffprobe';

function onPath(cmd: string): boolean {
  try {
    execFileSync(cmd, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Path of Debian's Chromium, the only browser the tests use (never downloaded). */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Returns a skip reason naming the package to install, or undefined when the tool is there.
 * In CI a missing tool throws, so browser/ffmpeg tests can never be skipped there.
 */
function need(tool: 'ffmpeg' | 'ffprobe' | 'chromium' | 'nats-server'): string | undefined {
  const present = tool === 'chromium' ? existsSync(chromiumPath) : onPath(tool === 'ffmpeg' ? ffmpegPath : tool === 'ffprobe' ? ffprobePath : tool);
  if (present) return undefined;
  const bundled = bundledFfmpegPass && (tool === 'ffmpeg' || tool === 'ffprobe');
  const reason = bundled
    ? `bundled ${tool} not found: run npm install (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe)`
    : `${tool} not found: install the Debian package '${tool === 'ffprobe' ? 'ffmpeg' : tool}' (apt-get install -y ${tool === 'ffprobe' ? 'ffmpeg' : tool})`;
  if (inCI) throw new Error(`CI must not skip: ${reason}`);
  return reason;
}

/** Skip reason when ffmpeg+ffprobe ({@link ffmpegPath}, {@link ffprobePath}) are missing (undefined when present). */
export const noFfmpeg = need('ffmpeg') ?? need('ffprobe');
/** Skip reason when Chromium is missing (undefined when present). */
export const noChromium = need('chromium');
/** Skip reason when `nats-server` (JetStream broker for the fleet tests) is missing (undefined when present). */
export const noNatsServer = need('nats-server');

if (noFfmpeg) console.warn(`[skip] ${noFfmpeg}`);
if (noChromium) console.warn(`[skip] ${noChromium}`);
if (noNatsServer) console.warn(`[skip] ${noNatsServer}`);
