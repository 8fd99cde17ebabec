import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Bot } from '../../src/index.js';
import { startServer } from '../../src/server/index.js';
import { freePort } from '../channel/helpers.js';
import { startCli } from '../helpers/cli-process.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('Bot.start() against a server it cannot reach', () => {
  it('rejects after startTimeoutMs naming the URL and the cause (a refused port is retried until then)', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const bot = new Bot({ server: url, room: 'lobby', name: 'Lonely', startTimeoutMs: 300 });
    cleanup.push(() => bot.stop());
    const error = await bot.start().catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ChannelError', code: 'connect_failed', cause: { code: 'ECONNREFUSED' } });
    expect((error as Error).message).toMatch(new RegExp(`^could not connect to ${url} within 300 ms: connection refused \\(connect ECONNREFUSED`));
    expect(bot.state).toMatchObject({ status: 'failed', error });
    expect(bot.channel.state.status).toBe('closed');
  });

  it('rejects at the first permanent cause by default: HTTP 404 at a wrong path', async () => {
    const server = await startServer();
    cleanup.push(() => server.close());
    const url = server.url.replace(/\/ws$/, '/spreed/ws');
    const bot = new Bot({ server: url, room: 'lobby', name: 'Lost' });
    cleanup.push(() => bot.stop());
    const error = await bot.start().catch((e: Error) => e);
    // No "within": it did not wait for the start timeout.
    expect((error as Error).message).toMatch(new RegExp(`^could not connect to ${url}: HTTP 404 Not Found on the WebSocket upgrade: wrong path`));
    expect(error).toMatchObject({ code: 'connect_failed', cause: { kind: 'http', code: 'HTTP 404' } });
  });

  it('a script run with `npx tsx my-script.ts` against a dead server exits non-zero and says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-dead-server-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n'); // as in this repository, for top-level await
    const script = join(dir, 'my-script.ts');
    const index = pathToFileURL(resolve('src/index.ts')).href;
    await writeFile(
      script,
      [
        `import { Bot } from ${JSON.stringify(index)};`,
        `const bot = new Bot({ server: process.env.SPREED_SERVER ?? 'ws://127.0.0.1:8080/ws', room: 'lobby', name: 'Shouty' });`,
        'await bot.start();',
        "console.log('started');",
      ].join('\n'),
    );
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const proc = startCli('npx', ['tsx', script], { cwd: process.cwd(), env: { SPREED_SERVER: url } });
    cleanup.push(async () => proc.kill());
    const code = await proc.exited;
    expect(code, proc.output()).not.toBe(0);
    expect(proc.output()).toContain(`could not connect to ${url} within 10000 ms: connection refused (connect ECONNREFUSED`);
    expect(proc.output()).not.toContain('started');
  }, 60_000);
});
