import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Bot,
  ConfigError,
  PluginOptionsError,
  autoAnswer,
  collectFiles,
  commands,
  loadRunConfig,
  record,
  shareFolder,
  type Plugin,
} from '../../src/index.js';

const tmp = () => mkdtemp(join(tmpdir(), 'spreed-options-'));

/** The error a factory throws for `options`. */
function optionsError(create: () => unknown): PluginOptionsError {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(PluginOptionsError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as PluginOptionsError;
  }
  throw new Error('expected the factory to throw');
}

describe('built-in plugins validate their options when created', () => {
  it('record names every bad field', () => {
    const error = optionsError(() => record({ dir: 5, stopWhenEmptyMs: 'soon' } as never));
    expect(error.plugin).toBe('record');
    expect(error.message).toContain('record.options.dir: expected string, received number');
    expect(error.message).toContain('record.options.stopWhenEmptyMs: expected number, received string');
    expect(optionsError(() => record({ autoStart: 'always' } as never)).message).toMatch(/^record\.options\.autoStart: invalid enum value/);
    expect(optionsError(() => record({ dirr: 'typo' } as never)).message).toContain("unrecognized key(s) in object: 'dirr'");
  });

  it('commands, autoAnswer, shareFolder and collectFiles name the bad field', () => {
    expect(optionsError(() => commands({ burst: -1 })).message).toMatch(/^commands\.options\.burst: number must be greater than 0/);
    expect(optionsError(() => autoAnswer({ policy: 'sometimes' as never })).message).toMatch(/^autoAnswer\.options\.policy: /);
    expect(optionsError(() => autoAnswer({ pickupTimeoutMs: 'long' as never })).message).toContain('autoAnswer.options.pickupTimeoutMs');
    expect(optionsError(() => shareFolder({ dir: 3 } as never)).message).toContain('shareFolder.options.dir: expected string, received number');
    expect(optionsError(() => shareFolder({ dir: 'x', announceToJoiners: true } as never)).message).toMatch(/^shareFolder\.options\.announceToJoiners: /);
    expect(optionsError(() => collectFiles({ dir: 'x', policy: { kind: 'max-size', bytes: 'big' } } as never)).message).toContain(
      'collectFiles.options.policy.bytes: expected number, received string',
    );
    expect(optionsError(() => collectFiles({} as never)).message).toContain('collectFiles.options.dir: required');
  });

  it('good options pass, including code-only ones (functions, nested policies)', () => {
    expect(record({ dir: 'recordings', autoStart: 'manual', maxBitrate: 0 }).name).toBe('record');
    expect(autoAnswer({ policy: { kind: 'allow', allow: ['Alice'], busyWhenInCall: true }, onPeerConnection: () => undefined }).name).toBe('autoAnswer');
    expect(autoAnswer({ policy: { allow: ['Alice'] }, media: { audio: 'none', video: 'none' } }).name).toBe('autoAnswer');
    const policy = { kind: 'all', policies: [{ kind: 'max-size', bytes: 10 }, { kind: 'type', patterns: ['image/*'] }] } as const;
    expect(collectFiles({ dir: 'x', policy }).name).toBe('collectFiles');
    expect(commands({ prefix: '?' }).name).toBe('commands');
  });
});

describe('a config file with bad plugin options or unusable folders fails at load (ConfigError)', () => {
  async function config(plugins: unknown[]): Promise<string> {
    const dir = await tmp();
    const path = join(dir, 'bots.json');
    await writeFile(path, JSON.stringify({ server: 'ws://127.0.0.1:1/ws', name: 'Rec', plugins }));
    return path;
  }

  it('names where the plugin is configured and the field', async () => {
    const path = await config(['commands', { name: 'record', options: { dir: 5, stopWhenEmptyMs: 'soon' } }]);
    const error = await loadRunConfig(path, {}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${path}: plugins[1] (record).options.dir: expected string, received number`);
    expect((error as Error).message).toContain('options.stopWhenEmptyMs: expected number, received string');
  });

  it('a recordings dir that cannot be created names the path (ENOTDIR) and leaves nothing behind', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'file'), 'not a folder');
    const bad = join(dir, 'file', 'recordings');
    const path = await config([{ name: 'record', options: { dir: bad } }]);
    const error = await loadRunConfig(path, {}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`${path}: plugin 'record': recordings dir '${bad}' cannot be created (ENOTDIR): choose another folder or fix its permissions`);
  });

  it('a missing recordings dir is created and probed at load; the probe file is removed', async () => {
    const dir = join(await tmp(), 'new', 'recordings');
    const path = await config([{ name: 'record', options: { dir } }, { name: 'collectFiles', options: { dir: join(dir, '..', 'inbox') } }]);
    await loadRunConfig(path, {}, {});
    expect(await readdir(dir)).toEqual([]);
    expect(await readdir(join(dir, '..', 'inbox'))).toEqual([]);
  });

  it('a shareFolder dir must exist; a collectFiles dir must be creatable', async () => {
    const dir = await tmp();
    const missing = join(dir, 'missing');
    const share = await config([{ name: 'shareFolder', options: { dir: missing } }]);
    await expect(loadRunConfig(share, {}, {})).rejects.toThrow(`plugin 'shareFolder': shared folder '${missing}' does not exist or cannot be read (ENOENT)`);
    await writeFile(join(dir, 'file'), '');
    const collect = await config([{ name: 'collectFiles', options: { dir: join(dir, 'file') } }]);
    await expect(loadRunConfig(collect, {}, {})).rejects.toThrow(`collectFiles dir '${join(dir, 'file')}' cannot be created (EEXIST)`);
  });

  it('bot.start() runs the same checks before connecting', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'file'), '');
    const connected: string[] = [];
    const spy: Plugin = { name: 'spy', setup: () => void connected.push('setup') };
    // Port 1 is never listened on: a bot that got as far as connecting would fail differently.
    const bot = new Bot({ server: 'ws://127.0.0.1:1/ws', room: 'x', name: 'Rec', plugins: [record({ dir: join(dir, 'file', 'rec') }), spy] });
    await expect(bot.start()).rejects.toThrow(/plugin 'record': recordings dir '.*' cannot be created \(ENOTDIR\)/);
    expect(bot.state.status).toBe('failed');
    expect(connected).toEqual([]);
  });
});
