import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { startCli } from '../helpers/cli-process.js';
import { RoomChat } from '../helpers/room-chat.js';

// Bot and plugin modules where an operator puts them (/etc/spreed-bot/): a directory with no
// package.json and no node_modules around it, loaded by the repository's ./bin/spreed-bot.js.
const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

const files: Record<string, string> = {
  // A TypeScript plugin with top-level await, a relative import of another .ts file, and
  // packages it cannot find next to it (rxjs, spreed-bot): before, "Cannot require() ES Module … in a cycle".
  'etc-plugin.ts': `import { filter } from 'rxjs';
import type { Plugin } from 'spreed-bot';
import { suffix } from './suffix.js';

const mark: string = await Promise.resolve('!');
const plugin: Plugin = {
  name: 'etc-ts',
  setup(ctx) {
    return ctx.chat$.pipe(filter((m) => m.text.startsWith('ts '))).subscribe((m) => ctx.chat.reply(m, 'ts plugin: ' + m.text.slice(3) + suffix + mark));
  },
};
export default plugin;
`,
  'suffix.ts': `export const suffix: string = ' (etc)';\n`,
  // A JavaScript plugin factory in ES module syntax (tsx alone sent it to the CommonJS loader).
  'js-plugin.js': `export default (options) => ({
  name: 'etc-js',
  setup(ctx) {
    return ctx.chat$.subscribe((m) => { if (m.text.startsWith('js ')) ctx.chat.reply(m, options.prefix + m.text.slice(3)); });
  },
});
`,
  'etc-bot.ts': `import { commands, defineBot } from 'spreed-bot';
import plugin from './etc-plugin.js';

export default defineBot({ name: 'EtcBot', plugins: [commands(), plugin] });
`,
  'bots.yaml': `bots:
  - name: EtcBot
    room: etc
    module: ./etc-bot.ts
    plugins:
      - module: ./js-plugin.js
        options: { prefix: 'js plugin: ' }
`,
  // Script-style modules: 'spreed-bot run' must refuse them before they connect.
  'script.ts': `import { Bot } from 'spreed-bot';
const bot = new Bot({ server: process.env.TARGET!, room: 'etc', name: 'Script' });
await bot.start();
`,
  'script-unawaited.js': `import { Bot } from 'spreed-bot';
const bot = new Bot({ server: process.env.TARGET, room: 'etc', name: 'Script' });
void bot.start();
export default { name: 'Script', plugins: [] };
`,
};

let dir: string;
let server: ChannelingServer;
let front: Server;
let frontUrl: string;
let connections = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spreed-etc-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  server = await startServer({ host: '127.0.0.1', port: 0 });
  // A TCP front for the server that counts connections: a refused module must make none.
  front = createServer((socket) => {
    connections++;
    const upstream = createConnection(server.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = server.url.replace(`:${server.port}/`, `:${(front.address() as { port: number }).port}/`);
});

afterAll(async () => {
  await new Promise((resolve) => front?.close(resolve));
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('bot and plugin modules from a directory without package.json', () => {
  it('loads a .ts bot module, a .ts plugin and a .js plugin that import spreed-bot and rxjs', async () => {
    const tester = await RoomChat.join(server.url, 'etc');
    const bot = startCli(process.execPath, [bin, 'run', join(dir, 'bots.yaml'), '--server', server.url], { cwd: dir });
    try {
      await tester.arrival('EtcBot');
      expect(await tester.ask('ts hello', /^ts plugin:/)).toBe('ts plugin: hello (etc)!');
      expect(await tester.ask('js hello', /^js plugin:/)).toBe('js plugin: hello');
      bot.interrupt();
      expect(await bot.exited).toBe(0);
    } finally {
      bot.kill();
      await tester.close();
    }
  }, 120_000);

  it.each(['script.ts', 'script-unawaited.js'])('refuses %s, which starts its own bot, with exit code 2 before connecting', async (file) => {
    const before = connections;
    const proc = startCli(process.execPath, [bin, 'run', file, '--server', frontUrl], { cwd: dir, env: { TARGET: frontUrl } });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(`${file} starts its own bot`);
    expect(proc.output()).toContain(`npx tsx ${file}`);
    expect(proc.output()).not.toContain('    at '); // one readable line, no stack
    expect(connections).toBe(before);
  }, 120_000);

  it('counts a connection through the front when a bot does connect (the check above can fail)', async () => {
    const before = connections;
    const proc = startCli(process.execPath, [bin, 'run', join(dir, 'etc-bot.ts'), '--server', frontUrl, '--room', 'etc'], { cwd: dir });
    try {
      await proc.waitFor(/bot started/);
      expect(connections).toBeGreaterThan(before);
      proc.interrupt();
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill();
    }
  }, 120_000);
});
