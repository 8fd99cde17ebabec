/**
 * Issue 13 item 2: `spreed-bot run` reacts to SIGTERM/SIGINT from the start, not only after every
 * bot has joined: while the config loads, while a server is unreachable, and with one good and
 * one unreachable bot (the good one leaves cleanly, one signal is enough).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ofType } from '../../src/index.js';
import { freePort } from '../channel/helpers.js';
import { next, participant, useTestServer } from '../helpers/peers.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');
/** Far longer than a prompt stop needs, far shorter than the 30 s drain or a reconnect back-off. */
const promptMs = 15_000;
let dir: string;
let deadUrl: string;

function run(config: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, 'run', config], { env: { ...process.env, LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** The exit code, or 'still running' when the process outlived `promptMs`. */
  const exitCode = async (): Promise<number | null | 'still running'> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([exited, new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), promptMs)))]);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  };
  return { child, exitCode, output: () => output };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spreed-early-'));
  deadUrl = `ws://127.0.0.1:${await freePort()}/ws`;
});

describe('spreed-bot run: signals before every bot has joined', () => {
  const env = useTestServer();

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while the only bot cannot reach its server exits 0 promptly', async (signal) => {
    const config = join(dir, `unreachable-${signal}.yaml`);
    await writeFile(config, `server: ${deadUrl}\ndrainTimeoutMs: 30000\nbots:\n  - { name: Lonely, room: nowhere }\n`);
    const proc = run(config);
    await expect.poll(() => proc.output(), { timeout: 20_000 }).toContain('starting bots');
    proc.child.kill(signal);
    expect(await proc.exitCode(), proc.output()).toBe(0);
    expect(proc.output()).toContain('"msg":"stopped"');
    expect(proc.output()).not.toContain('second signal');
  }, 60_000);

  it('one SIGTERM with a good and an unreachable bot: the good bot leaves the room and the process exits 0', async () => {
    const watcher = await participant(env.server.url, 'early-room', 'Watcher');
    env.cleanup.push(() => watcher.close());
    const config = join(dir, 'mixed.yaml');
    await writeFile(
      config,
      [`server: ${env.server.url}`, 'bots:', '  - { name: Good, room: early-room }', `  - { name: Unreachable, room: early-room, server: "${deadUrl}" }`].join('\n'),
    );
    const joined = next(
      watcher.documents$.pipe(ofType('Joined', 'Status')),
      (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === 'Good',
      20_000,
    );
    const proc = run(config);
    const good = await joined;
    const left = next(watcher.documents$.pipe(ofType('Left')), (r) => r.doc.Id === good.from, promptMs);
    proc.child.kill('SIGTERM');
    expect(await proc.exitCode(), proc.output()).toBe(0);
    await left;
    expect(proc.output()).not.toContain('second signal');
  }, 60_000);

  it('SIGTERM while the config is still loading: exits 0 without starting a bot', async () => {
    // A bot module that takes a while to import, like one that loads a model or a large library.
    const module = join(dir, 'slow-bot.mjs');
    await writeFile(module, "console.error('slow module loading');\nawait new Promise((r) => setTimeout(r, 3000));\nexport default { name: 'Slow', plugins: [] };\n");
    const proc = run(module, { SPREED_SERVER: deadUrl });
    await expect.poll(() => proc.output(), { timeout: 20_000 }).toContain('slow module loading');
    proc.child.kill('SIGTERM');
    expect(await proc.exitCode(), proc.output()).toBe(0);
    expect(proc.output()).toContain('stop requested before any bot started');
    expect(proc.output()).not.toContain('starting bots');
  }, 60_000);
});
