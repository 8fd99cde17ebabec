/**
 * Child processes for the fleet tests and bench: the real `spreed-bot` CLI (server, workers) and
 * the participants fixture. No vitest import (the bench uses it too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
/** The checkout's CLI launcher. */
export const cliBin = join(root, 'bin/spreed-bot.js');

/** A running child with its combined output. */
export interface Child {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
  /** Resolves when the output matches (rejects if the process exits first or after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Writes a line to its stdin. */
  send(line: string): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns `node <args>` with stdout and stderr collected. */
export function spawnNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const logLevel = process.env.FLEET_E2E_LOG_LEVEL ?? 'info';
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, LOG_LEVEL: logLevel, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    send: (line) => void child.stdin!.write(`${line}\n`),
    kill: (signal = 'SIGTERM') => void (child.exitCode === null && child.kill(signal)),
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const done = (fn: () => void) => {
          listeners.delete(check);
          clearTimeout(timer);
          fn();
        };
        const check = () => {
          const match = output.match(pattern);
          if (match) done(() => resolve(match));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`))), timeoutMs);
        listeners.add(check);
        check();
        void exited.then((code) => done(() => reject(new Error(`exited ${code} before ${pattern}:\n${output.slice(-3000)}`))));
      }),
  };
}

/** `spreed-bot <args>` from the checkout. */
export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  return spawnNode([cliBin, ...args], options);
}

/** Starts the CLI's channeling server on a free port in its own process; resolves with its URL. */
export async function startServerProcess(): Promise<{ url: string; proc: Child }> {
  const proc = spawnCli(['server', '--port', '0']);
  const [, url] = (await proc.waitFor(/listening on (ws:\/\/\S+)/)) as RegExpMatchArray;
  return { url: url!, proc };
}

/** Starts `spreed-bot worker` and waits until it is ready. */
export async function startWorkerProcess(name: string, nats: string, cwd: string, extra: string[] = []): Promise<Child> {
  const proc = spawnCli(['worker', '--nats', nats, '--name', name, '--metrics-port', '0', ...extra], { cwd });
  await proc.waitFor(new RegExp(`worker ${name} ready`), 240_000);
  return proc;
}

/** One werift participant with a test pattern per room, in its own process (fixtures/participants.ts). */
export async function startParticipants(server: string, rooms: string[]) {
  const proc = spawnNode(['--import', 'tsx', join(import.meta.dirname, 'fixtures/participants.ts'), server, ...rooms]);
  await proc.waitFor(/"ready":true/);
  let reports = 0;
  return {
    proc,
    /** Most recorders seen at once per room, from each participant's room state. */
    async maxRecorders(): Promise<number[]> {
      proc.send('report');
      // The whole object, not only its key: the output may arrive cut in the middle of the line.
      const all = await proc.waitFor(new RegExp(`(?:[^]*?\\{"maxRecorders":\\[[^\\]]*\\]\\}){${++reports}}`));
      const last = [...all[0]!.matchAll(/\{"maxRecorders":(\[[^\]]*\])\}/g)].at(-1)!;
      return JSON.parse(last[1]!) as number[];
    },
    async leave(): Promise<void> {
      proc.send('leave');
      await proc.waitFor(/"left":true/, 60_000);
    },
  };
}
