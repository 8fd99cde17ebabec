import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/index.js';

const botsDir = join(import.meta.dirname, '../../bots');
const modules = readdirSync(botsDir).filter((f) => f.endsWith('.ts') && f !== 'echo-plugin.ts');

describe('ready bots in bots/', () => {
  it.each(modules)('%s loads as a bot definition for `spreed-bot run`', async (file) => {
    const config = await loadRunConfig(join(botsDir, file), { server: 'ws://127.0.0.1:1/ws' }, {});
    expect(config.bots).toHaveLength(1);
    const bot = config.bots[0]!;
    expect(bot.name).toBeTruthy();
    expect(bot.plugins!.length).toBeGreaterThan(0);
    for (const plugin of bot.plugins!) expect(typeof plugin.setup).toBe('function');
  });

  it('the example config in deploy/ resolves every bot and plugin', async () => {
    const config = await loadRunConfig(join(import.meta.dirname, '../../deploy/bots.example.yaml'), {}, {});
    expect(config.bots.map((b) => b.name)).toEqual(['Recorder', 'Inbox']);
    expect(config.health).toEqual({ host: '127.0.0.1', port: 9464, recordings: 'recordings' });
    expect(config.bots.map((b) => b.plugins!.map((p) => p.name))).toEqual([
      ['commands', 'autoAnswer', 'record'],
      ['commands', 'collectFiles'],
    ]);
  });
});
