import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer } from '../helpers/peers.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

/** Runs `spreed-bot run <config>` and resolves with its exit code and output. */
function run(config: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [bin, 'run', config], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('spreed-bot run exits 2 on bad plugin options or unusable folders, before any bot connects', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let dir: string;

  beforeAll(async () => {
    server = await testServer();
    dir = await mkdtemp(join(tmpdir(), 'spreed-exit-'));
    await writeFile(join(dir, 'a-file'), 'not a folder');
  });
  afterAll(async () => {
    await server.close();
  });

  async function config(name: string, yaml: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `server: ${server.url}\nbots:\n  - name: Good\n    room: lobby\n    plugins: [commands]\n${yaml}`);
    return path;
  }

  it('names the bad option field', async () => {
    const path = await config('options.yaml', `  - name: Rec\n    plugins:\n      - commands\n      - name: record\n        options: { dir: 5, stopWhenEmptyMs: soon }\n`);
    const { code, output } = await run(path);
    expect(code).toBe(2);
    expect(output).toContain(`${path}: bots[1] (Rec): plugins[1] (record).options.dir: expected string, received number`);
    expect(output).toContain('options.stopWhenEmptyMs: expected number, received string');
    expect(output).not.toMatch(/\n\s+at /); // one line, no stack
  }, 60_000);

  it('names an unusable recordings dir', async () => {
    const bad = join(dir, 'a-file', 'recordings');
    const path = await config('dir.yaml', `  - name: Rec\n    plugins:\n      - name: record\n        options: { dir: ${bad} }\n`);
    const { code, output } = await run(path);
    expect(code).toBe(2);
    expect(output).toContain(`${path}: bots[1] (Rec): plugin 'record': recordings dir '${bad}' cannot be created (ENOTDIR)`);
  }, 60_000);

  it('names a missing shared folder', async () => {
    const missing = join(dir, 'no-such-folder');
    const path = await config('share.yaml', `  - name: Library\n    plugins:\n      - name: shareFolder\n        options: { dir: ${missing} }\n`);
    const { code, output } = await run(path);
    expect(code).toBe(2);
    expect(output).toContain(`plugin 'shareFolder': shared folder '${missing}' does not exist or cannot be read (ENOENT)`);
  }, 60_000);

  it('the server saw no connection from any of those runs (not even the good bot)', () => {
    expect(server.sessionCount).toBe(0);
    expect(server.stats.framesIn).toBe(0);
  });
});
