import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { Subject, type Observable } from 'rxjs';
import { MediaError } from './errors.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Which ffmpeg binary the media layer uses. */
export interface FfmpegInfo {
  path: string;
  /** `system`: found on PATH (preferred); `npm`: the static build from `@ffmpeg-installer/ffmpeg`. */
  source: 'system' | 'npm';
  /** First token after `ffmpeg version`, e.g. `5.1.9-0+deb12u1`. */
  version: string;
}

function versionOf(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      resolve(/ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown');
    });
  });
}

let located: Promise<FfmpegInfo> | undefined;

/**
 * Finds ffmpeg: `ffmpeg` on PATH first, else the binary bundled by `@ffmpeg-installer/ffmpeg`.
 * The result is cached; it rejects with `FFMPEG_NOT_FOUND` when neither runs.
 */
export function locateFfmpeg(): Promise<FfmpegInfo> {
  located ??= (async () => {
    const system = await versionOf('ffmpeg');
    if (system) return { path: 'ffmpeg', source: 'system' as const, version: system };
    try {
      const npmPath = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
      const npmVersion = await versionOf(npmPath);
      if (npmVersion) return { path: npmPath, source: 'npm' as const, version: npmVersion };
    } catch {
      // not installed for this platform: fall through to the error below
    }
    throw new MediaError('FFMPEG_NOT_FOUND', 'ffmpeg not found: install it (apt-get install -y ffmpeg) or add @ffmpeg-installer/ffmpeg');
  })();
  located.catch(() => (located = undefined));
  return located;
}

/** One parsed ffmpeg status line (`size=  123kB time=00:00:01.00 ...`). */
export interface FfmpegProgress {
  /** Output media time in milliseconds. */
  timeMs: number;
  /** Output bytes so far. */
  sizeBytes: number;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3 };

/** Parses an ffmpeg `-stats` line; undefined when it has no `time=`. Pure. */
export function parseProgress(line: string): FfmpegProgress | undefined {
  const time = /time=\s*(-?)(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
  if (!time) return undefined;
  const timeMs = (time[1] ? -1 : 1) * Math.round((Number(time[2]) * 3600 + Number(time[3]) * 60 + Number(time[4])) * 1000);
  const size = /size=\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b)/i.exec(line);
  const sizeBytes = size ? Math.round(Number(size[1]) * (SIZE_UNITS[size[2]!.toLowerCase()] ?? 1)) : 0;
  return { timeMs, sizeBytes };
}

/** How ffmpeg ended. */
export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the exit was not the clean one we asked for. */
  error?: MediaError;
}

/** Options for {@link spawnFfmpeg}. */
export interface SpawnFfmpegOptions {
  /** Binary; @defaultValue the result of {@link locateFfmpeg} */
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
  /** Stderr lines kept for error messages. @defaultValue 50 */
  keepLines?: number;
  /** Where stdout goes; `pipe` exposes it as `process.stdout`. @defaultValue 'ignore' */
  stdout?: 'pipe' | 'ignore';
}

/**
 * A running ffmpeg. Never throws into the process: spawn failures, crashes, a full disk all end in
 * `exited` resolving with an `error`, also pushed to `error$`.
 */
export interface FfmpegProcess {
  readonly child: ChildProcess;
  /** Last stderr lines (bounded). */
  readonly stderrTail: readonly string[];
  /** Every stderr line. */
  readonly lines$: Observable<string>;
  /** Parsed status lines. */
  readonly progress$: Observable<FfmpegProgress>;
  /** Latest progress, if any. */
  readonly progress: FfmpegProgress | undefined;
  /** Resolves once when the process has ended (never rejects). */
  readonly exited: Promise<FfmpegExit>;
  /**
   * Asks ffmpeg to finish the file (`q` on stdin), then SIGINT twice after at most 1.5 s, SIGKILL
   * after another `graceMs`. Idempotent; resolves with the exit.
   * @defaultValue graceMs 5000
   */
  stop(graceMs?: number): Promise<FfmpegExit>;
  /** SIGKILL now (tests, shutdown on fatal errors). */
  kill(): void;
}

function classifyExit(code: number | null, signal: NodeJS.Signals | null, stopping: boolean, tail: readonly string[]): MediaError | undefined {
  const text = tail.join('\n');
  if (/No space left on device|ENOSPC/i.test(text)) {
    return new MediaError('DISK_FULL', `ffmpeg ran out of disk space: free space in the recordings directory\n${text}`);
  }
  if (code === 0) return undefined;
  // 255 is ffmpeg's exit after SIGINT/SIGTERM ("Exiting normally, received signal"); fine when we asked.
  if (stopping && (code === 255 || signal === 'SIGINT')) return undefined;
  if (signal) return new MediaError('FFMPEG_CRASHED', `ffmpeg died from ${signal}; last output:\n${text}`);
  return new MediaError('FFMPEG_EXIT', `ffmpeg exited with code ${code}; last output:\n${text}`);
}

/**
 * Spawns ffmpeg with `args` (after `-hide_banner -nostdin`-like defaults chosen by the caller).
 * stdin stays a pipe so `stop()` can send `q`.
 */
export async function spawnFfmpeg(args: readonly string[], options: SpawnFfmpegOptions = {}): Promise<FfmpegProcess> {
  const info = options.ffmpeg ?? (await locateFfmpeg());
  return startFfmpeg(info.path, args, options);
}

function startFfmpeg(path: string, args: readonly string[], options: SpawnFfmpegOptions): FfmpegProcess {
  const logger = options.logger ?? silentLogger;
  const keep = options.keepLines ?? 50;
  const tail: string[] = [];
  const lines$ = new Subject<string>();
  const progress$ = new Subject<FfmpegProgress>();
  let progress: FfmpegProgress | undefined;
  let stopping = false;
  let stopPromise: Promise<FfmpegExit> | undefined;

  const child = spawn(path, args, { stdio: ['pipe', options.stdout ?? 'ignore', 'pipe'] });
  // EPIPE on stdin after ffmpeg died must not become an uncaught error.
  child.stdin?.on('error', () => undefined);

  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/[\r\n]+/);
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line) continue;
      const p = parseProgress(line);
      if (p) {
        progress = p;
        progress$.next(p);
      } else {
        tail.push(line);
        if (tail.length > keep) tail.shift();
      }
      lines$.next(line);
    }
  });

  const exited = new Promise<FfmpegExit>((resolve) => {
    let done = false;
    const finish = (exit: FfmpegExit) => {
      if (done) return;
      done = true;
      if (partial) tail.push(partial);
      lines$.complete();
      progress$.complete();
      if (exit.error) logger.warn({ err: exit.error, code: exit.code, signal: exit.signal }, 'ffmpeg ended with an error');
      resolve(exit);
    };
    child.on('error', (err) => {
      const error = new MediaError('FFMPEG_SPAWN_FAILED', `could not start ffmpeg at ${path}: ${err.message}; install ffmpeg`, { cause: err });
      finish({ code: null, signal: null, error });
    });
    child.on('close', (code, signal) => finish({ code, signal, error: classifyExit(code, signal, stopping, tail) }));
  });

  const stop = (graceMs = 5000): Promise<FfmpegExit> => {
    stopPromise ??= (async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.stdin?.end('q');
      const exitedWithin = async (ms: number) => {
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
        return (await Promise.race([exited, timer])) !== 'timeout';
      };
      // ffmpeg reads `q` between packets; with no input arriving it blocks, and after start-up one
      // SIGINT only sets a flag, a second one interrupts the blocking read (the file is still finished).
      if (await exitedWithin(Math.min(1500, graceMs))) return exited;
      child.kill('SIGINT');
      if (await exitedWithin(100)) return exited;
      child.kill('SIGINT');
      if (await exitedWithin(graceMs)) return exited;
      child.kill('SIGKILL');
      return exited;
    })();
    return stopPromise;
  };

  return {
    child,
    get stderrTail() {
      return tail;
    },
    lines$: lines$.asObservable(),
    progress$: progress$.asObservable(),
    get progress() {
      return progress;
    },
    exited,
    stop,
    kill: () => {
      stopping = true;
      child.kill('SIGKILL');
    },
  };
}
