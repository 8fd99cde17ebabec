import { spawn, type ChildProcess } from 'node:child_process';
import { Subject, type Observable } from 'rxjs';
import { MediaError } from './errors.js';
import { locateFfmpeg, type FfmpegInfo } from './ffmpeg-locate.js';
import { silentLogger, type Logger } from '../util/logger.js';

// Finding the binary and what it supports are part of the adapter's public surface.
export * from './ffmpeg-locate.js';
export * from './ffmpeg-features.js';

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
  /**
   * True when a signal we did not send ended ffmpeg (killed, or SIGINT/SIGTERM it turned into
   * exit code 255): whatever it wrote may still be a playable file, judge by the file.
   */
  interrupted: boolean;
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
  /**
   * SIGKILL this ffmpeg when node exits. ffmpeg runs in its own process group (a terminal's
   * Ctrl-C or systemd's stop signal meant for the bot must not reach it), so nothing else ends it
   * with us. Recording ffmpegs pass `false`: their RTSP feed closing with us ends them cleanly.
   * @defaultValue true
   */
  killOnExit?: boolean;
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

/** ffmpeg's line when SIGINT/SIGTERM/SIGQUIT ended it (it still closed its output, then exit 255). */
const RECEIVED_SIGNAL = /received signal \d+|Exiting normally, received signal/i;

/** How an ffmpeg run ended, from its exit and last stderr lines. Pure. */
export function classifyExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  stopping: boolean,
  tail: readonly string[],
): Pick<FfmpegExit, 'error' | 'interrupted'> {
  const text = tail.join('\n');
  if (/No space left on device|ENOSPC/i.test(text)) {
    return { error: new MediaError('DISK_FULL', `ffmpeg ran out of disk space: free space in the recordings directory\n${text}`), interrupted: false };
  }
  if (code === 0) return { interrupted: false };
  // 255 is ffmpeg's exit after SIGINT/SIGTERM ("Exiting normally, received signal"); fine when we asked.
  if (stopping && (code === 255 || signal === 'SIGINT')) return { interrupted: false };
  if (signal) return { error: new MediaError('FFMPEG_CRASHED', `ffmpeg died from ${signal}; last output:\n${text}`), interrupted: true };
  const interrupted = code === 255 && RECEIVED_SIGNAL.test(text);
  const what = interrupted ? 'ffmpeg was stopped by a signal it did not get from spreed-bot' : `ffmpeg exited with code ${code}`;
  return { error: new MediaError('FFMPEG_EXIT', `${what}; last output:\n${text}`), interrupted };
}

const killOnExit = new Set<ChildProcess>();
let exitHookInstalled = false;

/** ffmpegs run in their own process group: make sure the ones that need it die with node. */
function killChildOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of killOnExit) c.kill('SIGKILL');
    });
  }
  killOnExit.add(child);
  child.once('exit', () => killOnExit.delete(child));
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

  // detached: its own process group, so signals for the bot's group (Ctrl-C, systemd stop) do not
  // stop it behind the bot's back; the bot stops it itself (stop()) and finishes the file.
  const child = spawn(path, args, { stdio: ['pipe', options.stdout ?? 'ignore', 'pipe'], detached: true });
  if (options.killOnExit ?? true) killChildOnExit(child);
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
      // The owner (recorder, mix-down, playback) reports the error once; here it is detail.
      if (exit.error) logger.debug({ code: exit.code, signal: exit.signal, reason: exit.error.message }, 'ffmpeg ended with an error');
      resolve(exit);
    };
    child.on('error', (err) => {
      const error = new MediaError('FFMPEG_SPAWN_FAILED', `could not start ffmpeg at ${path}: ${err.message}; install ffmpeg`, { cause: err });
      finish({ code: null, signal: null, error, interrupted: false });
    });
    child.on('close', (code, signal) => finish({ code, signal, ...classifyExit(code, signal, stopping, tail) }));
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
