import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { MediaError } from './errors.js';

/** Which ffmpeg (or ffprobe) binary the media layer uses. */
export interface FfmpegInfo {
  path: string;
  /**
   * `system`: found on PATH (preferred); `npm`: the static build from `@ffmpeg-installer/ffmpeg`
   * (or `@ffprobe-installer/ffprobe`); `env`: the path in `SPREED_BOT_FFMPEG`.
   */
  source: 'system' | 'npm' | 'env';
  /** First token after `ffmpeg version`, e.g. `5.1.9-0+deb12u1`. */
  version: string;
}

/**
 * Environment variable that picks the ffmpeg binary: unset for PATH first, then the npm build;
 * `system` for PATH only; `bundled` (or `npm`) for the npm build only; anything else is a path.
 */
export const FFMPEG_ENV = 'SPREED_BOT_FFMPEG';

/** Where to look, in order, for a given `SPREED_BOT_FFMPEG` value. Pure. */
export function ffmpegCandidates(env: string | undefined): ('system' | 'npm' | { path: string })[] {
  const value = env?.trim();
  if (!value) return ['system', 'npm'];
  if (value === 'system') return ['system'];
  if (value === 'bundled' || value === 'npm') return ['npm'];
  return [{ path: value }];
}

function versionOf(path: string, tool: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      resolve(new RegExp(`${tool} version (\\S+)`).exec(stdout)?.[1] ?? 'unknown');
    });
  });
}

function npmBinary(pkg: string): string | undefined {
  try {
    return (createRequire(import.meta.url)(pkg) as { path: string }).path;
  } catch {
    return undefined; // not installed, or no build for this platform
  }
}

const located = new Map<string, Promise<FfmpegInfo>>();

/**
 * Finds ffmpeg: `ffmpeg` on PATH first, else the binary bundled by `@ffmpeg-installer/ffmpeg`;
 * `SPREED_BOT_FFMPEG` overrides (see {@link FFMPEG_ENV}). The result is cached per setting; it
 * rejects with `FFMPEG_NOT_FOUND` when nothing runs.
 */
export function locateFfmpeg(): Promise<FfmpegInfo> {
  const env = process.env[FFMPEG_ENV];
  const key = `${env ?? ''}\0${process.env.PATH ?? ''}`;
  let found = located.get(key);
  if (!found) {
    found = (async () => {
      for (const candidate of ffmpegCandidates(env)) {
        const path = candidate === 'system' ? 'ffmpeg' : candidate === 'npm' ? npmBinary('@ffmpeg-installer/ffmpeg') : candidate.path;
        const version = path && (await versionOf(path, 'ffmpeg'));
        if (path && version) return { path, source: typeof candidate === 'string' ? candidate : 'env', version };
      }
      const hint = env?.trim() ? `${FFMPEG_ENV}=${env} does not run ffmpeg: fix or unset it` : 'install it (apt-get install -y ffmpeg) or run npm install (@ffmpeg-installer/ffmpeg)';
      throw new MediaError('FFMPEG_NOT_FOUND', `ffmpeg not found: ${hint}`);
    })();
    located.set(key, found);
    found.catch(() => located.delete(key));
  }
  return found;
}

/**
 * Finds ffprobe (only tests and `spreed-bot doctor` use it): `ffprobe` on PATH, else the binary of
 * `@ffprobe-installer/ffprobe` (a dev dependency). Undefined when neither runs.
 */
export async function locateFfprobe(): Promise<FfmpegInfo | undefined> {
  const system = await versionOf('ffprobe', 'ffprobe');
  if (system) return { path: 'ffprobe', source: 'system', version: system };
  const path = npmBinary('@ffprobe-installer/ffprobe');
  const version = path && (await versionOf(path, 'ffprobe'));
  return path && version ? { path, source: 'npm', version } : undefined;
}

/** `system ffmpeg 5.1.9 at ffmpeg` / `bundled npm (@ffmpeg-installer/ffmpeg) ffmpeg N-… at …`. Pure. */
export function describeFfmpeg(info: FfmpegInfo): string {
  const from = { system: 'system', npm: 'bundled npm (@ffmpeg-installer/ffmpeg)', env: `${FFMPEG_ENV}` }[info.source];
  return `${from} ffmpeg ${info.version} at ${info.path}`;
}
