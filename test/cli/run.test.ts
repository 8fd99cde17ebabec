import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ofType } from '../../src/index.js';
import type { Channel } from '../../src/channel/index.js';
import { next, participant, testServer } from '../helpers/peers.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');
let server: Awaited<ReturnType<typeof testServer>>;
let watcher: Channel;

beforeEach(async () => {
  server = await testServer();
  watcher = await participant(server.url, 'cli-room', 'Watcher');
});
afterEach(async () => {
  await watcher.close();
  await server.close();
});

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('spreed-bot run', () => {
  it('starts a bot from a YAML config file, logs JSON, and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-cli-'));
    const config = join(dir, 'bot.yaml');
    await writeFile(config, `server: ${server.url}\nname: CliBot\nroom: cli-room\npin: s3cret-pin\nplugins:\n  - commands\n`);
    // The room has no PIN: the channel drops the PIN and retries (authorization_not_required).
    const joined = next(
      watcher.documents$.pipe(ofType('Joined', 'Status')),
      (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === 'CliBot',
      20_000,
    );
    const proc = run(['run', config]);
    const doc = await joined;
    const left = next(watcher.documents$.pipe(ofType('Left')), (r) => r.doc.Id === doc.from, 20_000);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await left;
    const lines = proc.output().trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(proc.output()).not.toContain('s3cret-pin');
  }, 60_000);

  it('exits 2 with the bad field named on an invalid config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-cli-'));
    const config = join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ server: server.url, name: 'X', plugins: [{ name: 'nope' }] }));
    const proc = run(['run', config]);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain("unknown plugin 'nope'");

    await writeFile(config, JSON.stringify({ server: 'not a url', name: 'X' }));
    const proc2 = run(['run', config]);
    expect(await proc2.exited).toBe(2);
    expect(proc2.output()).toContain("field 'server'");
  }, 60_000);

  it('prints help', async () => {
    const proc = run(['run', '--help']);
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('Usage: spreed-bot run');
  });

  it('runs a bot module with flags overriding it', async () => {
    const joined = next(
      watcher.documents$.pipe(ofType('Joined', 'Status')),
      (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === 'FlagEcho',
      20_000,
    );
    const proc = run(['run', join(import.meta.dirname, '../../bots/echo.ts'), '--server', server.url, '--room', 'cli-room', '--name', 'FlagEcho']);
    await joined;
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
  }, 60_000);
});
