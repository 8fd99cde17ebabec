/**
 * Issue 12 item 10: flags > environment > file, as the README and `run --help` say. With a `bots`
 * list only the server is overridden; a room/name/PIN flag is an error and such an environment
 * variable is ignored with a warning.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, envOverrides, loadRunConfig } from '../../src/bot/config.js';
import { ofType } from '../../src/index.js';
import { next, participant, useTestServer } from '../helpers/peers.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');
let dir: string;
let single: string;
let list: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spreed-precedence-'));
  single = join(dir, 'single.yaml');
  await writeFile(single, 'server: ws://file.invalid/ws\nname: FileName\nroom: file-room\npin: file-pin\n');
  list = join(dir, 'list.yaml');
  await writeFile(
    list,
    ['server: ws://file.invalid/ws', 'bots:', '  - { name: A, room: room-a, pin: pin-a }', '  - { name: B, room: room-b, server: ws://b.invalid/ws }'].join('\n'),
  );
});

describe('loadRunConfig precedence', () => {
  it('single-bot file: the file applies when nothing overrides it', async () => {
    const { bots } = await loadRunConfig(single, {}, {});
    expect(bots[0]).toMatchObject({ server: 'ws://file.invalid/ws', name: 'FileName', room: 'file-room', pin: 'file-pin' });
  });

  it('single-bot file: the environment overrides the file', async () => {
    const env = envOverrides({ SPREED_SERVER: 'ws://env.invalid/ws', SPREED_ROOM: 'env-room', SPREED_NAME: 'EnvName', SPREED_PIN: 'env-pin' });
    const { bots } = await loadRunConfig(single, {}, env);
    expect(bots[0]).toMatchObject({ server: 'ws://env.invalid/ws', name: 'EnvName', room: 'env-room', pin: 'env-pin' });
  });

  it('single-bot file: flags override the environment and the file, field by field', async () => {
    const env = { server: 'ws://env.invalid/ws', room: 'env-room', name: 'EnvName', pin: 'env-pin' };
    const { bots } = await loadRunConfig(single, { room: 'flag-room', server: 'ws://flag.invalid/ws' }, env);
    expect(bots[0]).toMatchObject({ server: 'ws://flag.invalid/ws', room: 'flag-room', name: 'EnvName', pin: 'env-pin' });
  });

  it('bots list: --server and SPREED_SERVER override every bot, flag first', async () => {
    const fromEnv = await loadRunConfig(list, {}, { server: 'ws://env.invalid/ws' });
    expect(fromEnv.bots.map((b) => b.server)).toEqual(['ws://env.invalid/ws', 'ws://env.invalid/ws']);
    expect(fromEnv.warnings).toBeUndefined();
    const fromFlag = await loadRunConfig(list, { server: 'ws://flag.invalid/ws' }, { server: 'ws://env.invalid/ws' });
    expect(fromFlag.bots.map((b) => b.server)).toEqual(['ws://flag.invalid/ws', 'ws://flag.invalid/ws']);
    const fromFile = await loadRunConfig(list, {}, {});
    expect(fromFile.bots.map((b) => b.server)).toEqual(['ws://file.invalid/ws', 'ws://b.invalid/ws']);
  });

  it('bots list: --room, --name and --pin are errors that say what to do', async () => {
    for (const flag of ['room', 'name', 'pin'] as const) {
      const error = await loadRunConfig(list, { [flag]: 'x' }, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`--${flag} applies to a single-bot config, but this file lists 2 bots: set '${flag}' per bot`);
    }
  });

  it('bots list: SPREED_ROOM/NAME/PIN are ignored with one warning each, the file wins', async () => {
    const { bots, warnings } = await loadRunConfig(list, {}, { room: 'env-room', name: 'EnvName', pin: 'env-pin' });
    expect(bots.map((b) => [b.name, b.room, b.pin])).toEqual([
      ['A', 'room-a', 'pin-a'],
      ['B', 'room-b', undefined],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^SPREED_ROOM is ignored: .* lists 2 bots/),
      expect.stringMatching(/^SPREED_NAME is ignored/),
      expect.stringMatching(/^SPREED_PIN is ignored/),
    ]);
  });
});

describe('spreed-bot run precedence', () => {
  const env = useTestServer();

  function run(args: string[], extraEnv: NodeJS.ProcessEnv) {
    const child = spawn(process.execPath, [bin, 'run', ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  }

  it('joins with the flag name in the environment room on the environment server, not what the file says', async () => {
    const watcher = await participant(env.server.url, 'env-room', 'Watcher');
    env.cleanup.push(() => watcher.close());
    const joined = next(
      watcher.documents$.pipe(ofType('Joined', 'Status')),
      (r) => (r.doc.Status as { displayName?: string } | null | undefined)?.displayName === 'FlagName',
      20_000,
    );
    const proc = run([single, '--name', 'FlagName'], { SPREED_SERVER: env.server.url, SPREED_ROOM: 'env-room' });
    await joined;
    proc.child.kill('SIGTERM');
    expect(await proc.exited, proc.output()).toBe(0);
  }, 60_000);

  it('exits 2 with one line when a bots list gets --room', async () => {
    const proc = run([list, '--room', 'x'], {});
    expect(await proc.exited).toBe(2);
    expect(proc.output().trim().split('\n')).toEqual([expect.stringContaining("--room applies to a single-bot config")]);
  });

  it('logs a warning naming SPREED_ROOM when a bots list ignores it', async () => {
    const config = join(dir, 'list-live.yaml');
    await writeFile(config, `server: ${env.server.url}\nbots:\n  - { name: Solo, room: live }\n`);
    const proc = run([config], { SPREED_ROOM: 'elsewhere' });
    await expect.poll(() => proc.output(), { timeout: 20_000 }).toContain('bot started');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const warning = proc.output().split('\n').find((l) => l.includes('SPREED_ROOM'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: expect.stringContaining('SPREED_ROOM is ignored') });
  }, 60_000);
});
