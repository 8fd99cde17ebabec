import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True when running in CI (`CI=true`): there, missing tools are failures, never skips. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

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
  const present = tool === 'chromium' ? existsSync(chromiumPath) : onPath(tool);
  if (present) return undefined;
  const reason = `${tool} not found: install the Debian package '${tool === 'ffprobe' ? 'ffmpeg' : tool}' (apt-get install -y ${tool === 'ffprobe' ? 'ffmpeg' : tool})`;
  if (inCI) throw new Error(`CI must not skip: ${reason}`);
  return reason;
}

/** Skip reason when system ffmpeg+ffprobe are missing (undefined when present). */
export const noFfmpeg = need('ffmpeg') ?? need('ffprobe');
/** Skip reason when Chromium is missing (undefined when present). */
export const noChromium = need('chromium');
/** Skip reason when `nats-server` (JetStream broker for the fleet tests) is missing (undefined when present). */
export const noNatsServer = need('nats-server');

if (noFfmpeg) console.warn(`[skip] ${noFfmpeg}`);
if (noChromium) console.warn(`[skip] ${noChromium}`);
if (noNatsServer) console.warn(`[skip] ${noNatsServer}`);
