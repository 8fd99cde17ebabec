/**
 * Issue 12 item 9: ordinary errors print one readable line and exit non-zero (the stack only
 * with LOG_LEVEL=debug), and `--version` says which spreed-bot this is.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spreed-bot.js');
let busy: Server;
let busyPort: number;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim());

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe('spreed-bot output', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const result = await cli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`spreed-bot ${version}`);
  });

  it('mix on a missing folder: one line naming the path, exit 1, no stack', async () => {
    const result = await cli(['mix', '/nonexistent/recording']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^spreed-bot mix: .*\/nonexistent\/recording/)]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('LOG_LEVEL=debug adds the stack for developers', async () => {
    const result = await cli(['mix', '/nonexistent/recording'], { LOG_LEVEL: 'debug' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^\s+at /m);
  });

  it('server on a port in use: one line that says what to do, exit 1', async () => {
    const result = await cli(['server', '--port', String(busyPort)]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `spreed-bot server: the channeling server cannot listen on 127.0.0.1:${busyPort}: the port is in use; pick another with --port (0 picks a free one)`,
    ]);
  });

  it("run with the health port in use: one line naming 'health.port', exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-output-'));
    const config = join(dir, 'bots.yaml');
    await writeFile(config, `server: ws://127.0.0.1:1/ws\nhealth: { port: ${busyPort} }\nbots:\n  - { name: A, room: r }\n`);
    const result = await cli(['run', config]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `spreed-bot run: the health endpoint cannot listen on 127.0.0.1:${busyPort}: the port is in use; set 'health.port' in the config to a free port`,
    ]);
  });
});
