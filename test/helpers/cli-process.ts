import { spawn, type ChildProcess } from 'node:child_process';

/** A command started in its own process group, as a terminal runs it. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once every process of it closed its output. */
  readonly exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in the output; rejects on exit or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /**
   * Ctrl-C in a terminal: SIGINT to the whole process group. Under npx, npm itself then exits
   * with 130 while the program it ran stops on its own; `exited` waits for all of them.
   */
  interrupt(): void;
  /** SIGKILL to the group if it still runs (cleanup). */
  kill(): void;
}

/**
 * Starts `command args` in `cwd` in a process group of its own, as a terminal does, so that
 * {@link CliProcess.interrupt} and {@link CliProcess.kill} reach what npx starts too. `env` is
 * added to this process's environment.
 */
export function startCli(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (data: Buffer) => {
    text += data.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      running = false;
      for (const listener of listeners) listener();
      resolve(code);
    }),
  );
  const signal = (name: NodeJS.Signals) => {
    if (running && child.pid) {
      try {
        process.kill(-child.pid, name);
      } catch {
        // the group is gone already
      }
    }
  };
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${pattern} in the output of '${command} ${args.join(' ')}':\n${text}`)), ms);
        const check = () => {
          const match = text.match(pattern);
          if (match) done(undefined, match);
          else if (!running) done(new Error(`'${command} ${args.join(' ')}' exited before printing ${pattern}:\n${text}`));
        };
        const done = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        listeners.add(check);
        check();
      });
    },
    interrupt: () => signal('SIGINT'),
    kill: () => signal('SIGKILL'),
  };
}
