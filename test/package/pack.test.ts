import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { RoomChat } from '../helpers/room-chat.js';
import { fileBlock, readmeSection, repoRoot, shellCommands } from './readme.js';

// README "Use spreed-bot in your own project", as written: pack this checkout, install the
// tarball into a new project, type-check the README's bots against the package's declarations,
// run them with the installed `spreed-bot` and talk to them. One pack and one install (slow:
// tsc build + npm install from the npm cache), shared by every case below.
const section = readmeSection('Use spreed-bot in your own project');
const firstBot = readmeSection('Write your first bot');
const setupCommands = [
  'npm pack --pack-destination ..',
  'mkdir ../my-bots && cd ../my-bots',
  'npm init -y && npm pkg set type=module',
  'npm install ../spreed-bot-0.1.0.tgz',
  'npm install --save-dev typescript@5.9.3 @types/node@20.19.43',
  'npx tsc --init --types node',
];
const typecheckCommand = 'npx tsc --noEmit';
const serverCommand = 'npx spreed-bot server --port 8080';
const runCommand = 'npx spreed-bot run my-bot.ts --server ws://127.0.0.1:8080/ws --room lobby';
const scriptCommand = 'npx tsx my-script.ts';
const rerunCommand = 'node node_modules/spreed-bot/scripts/postinstall.mjs';

// npm reads these like the command-line flags: use the npm cache that `npm ci` filled.
const npmEnv = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const exec = promisify(execFile);

let work: string;
let project: string;
let setupOutput: string;
let server: CliProcess;
let url: string;
let tester: RoomChat;
const started: CliProcess[] = [];

async function bash(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await exec('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd,
      env: { ...process.env, ...npmEnv, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`'${script}' failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

function start(command: string, env: NodeJS.ProcessEnv = {}, cwd = project): CliProcess {
  const [file, ...args] = command.replaceAll('ws://127.0.0.1:8080/ws', url).split(' ');
  const proc = startCli(file!, args, { cwd, env: { ...npmEnv, LOG_LEVEL: 'info', ...env } });
  started.push(proc);
  return proc;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'spreed-pack-'));
  // "This checkout": what `npm pack` reads, with the repository's node_modules for the build.
  const checkout = join(work, 'spreed-bot');
  await mkdir(checkout);
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'scripts', 'patches']) {
    await cp(join(repoRoot, entry), join(checkout, entry), { recursive: true });
  }
  await symlink(join(repoRoot, 'node_modules'), join(checkout, 'node_modules'));
  // Foreground scripts: npm shows what the dependencies' install scripts print (spreed-bot's postinstall).
  setupOutput = await bash(setupCommands.join('\n'), checkout, { npm_config_foreground_scripts: 'true' });
  project = join(work, 'my-bots');
  for (const file of ['shout.ts', 'my-bot.ts', 'my-script.ts']) {
    await writeFile(join(project, file), fileBlock(firstBot, file).replaceAll("'./src/index.js'", "'spreed-bot'"));
  }
}, 30 * 60_000);

afterAll(async () => {
  await tester?.close();
  for (const proc of started) proc.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('README "Use spreed-bot in your own project"', () => {
  it('shows exactly the commands this test runs', () => {
    expect(shellCommands(section)).toEqual([...setupCommands, typecheckCommand, serverCommand, runCommand, scriptCommand]);
    expect(section).toContain("change `'./src/index.js'` to `'spreed-bot'`");
  });

  it('the tarball has compiled JavaScript, declarations and the compiled command, no tests', async () => {
    const list = (await bash('tar -tzf spreed-bot-0.1.0.tgz', work)).split('\n');
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/media/index.d.ts', 'dist/cli/bin.js', 'package.json', 'README.md']) {
      expect(list).toContain(`package/${file}`);
    }
    expect(list.filter((f) => /^package\/(test|bench|bots|recordings)\//.test(f))).toEqual([]);
    const bin = await readFile(join(project, 'node_modules/spreed-bot/dist/cli/bin.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(await bash('npx spreed-bot --version', project)).toContain('spreed-bot 0.1.0');
  });

  it("spreed-bot's postinstall patched the werift it loads (SCTP maxBurst for file transfers)", async () => {
    expect(setupOutput).toContain('spreed-bot: patched werift 0.24.4');
    expect(setupOutput).not.toContain('werift not patched');
    const list = (await bash('tar -tzf spreed-bot-0.1.0.tgz', work)).split('\n');
    expect(list).toEqual(expect.arrayContaining(['package/scripts/postinstall.mjs', 'package/patches/werift+0.24.4.patch']));
    // Inside the installed package, so 'werift' resolves exactly as spreed-bot's own imports do.
    const probe = join(project, 'node_modules/spreed-bot/werift-probe.mjs');
    await writeFile(
      probe,
      `import { RTCPeerConnection } from 'werift';
import { raiseWeriftSctpBurst } from './dist/files/index.js';
const pc = new RTCPeerConnection({ iceServers: [] });
const dc = pc.createDataChannel('probe');
console.log('maxBurst', dc.sctp.sctp.maxBurst, 'raised', raiseWeriftSctpBurst(dc), dc.sctp.sctp.maxBurst);
await pc.close();
`,
    );
    expect((await bash(`node ${probe}`, project)).trim()).toBe('maxBurst 4 raised true 64');
    // The README's command for --ignore-scripts installs; run again, it sees the patch and changes nothing.
    expect(readmeSection('File sharing')).toContain(`\`${rerunCommand}\``);
    const again = await bash(rerunCommand, project);
    expect(again.trim()).toMatch(/^spreed-bot: werift 0\.24\.4 already patched \(/);
  }, 120_000);

  it('npx tsc --noEmit type-checks the bots; the package declarations have no errors of their own', async () => {
    await bash(typecheckCommand, project);
    // With skipLibCheck off, errors may come from werift's and DOM typings, never from spreed-bot's.
    const strict = await bash('npx tsc --noEmit --skipLibCheck false || true', project);
    expect(strict.split('\n').filter((line) => line.startsWith('node_modules/spreed-bot/'))).toEqual([]);
  }, 300_000);

  it('imports the README API and subpaths from ESM and CommonJS, without loading tsx or esbuild', async () => {
    const trace = join(work, 'resolved.txt');
    await writeFile(
      join(project, 'trace.mjs'),
      `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) { const r = await next(specifier, context); appendFileSync(${JSON.stringify(trace)}, r.url + '\\\\n'); return r; }\`));
`,
    );
    await writeFile(
      join(project, 'check.mjs'),
      `import { Bot, record, autoAnswer, shareFolder, collectFiles, startServer, defineBot, commands } from 'spreed-bot';
import { mixdown, MeetingRecorder } from 'spreed-bot/media';
import * as files from 'spreed-bot/files';
import * as peer from 'spreed-bot/peer';
import * as server from 'spreed-bot/server';
import * as service from 'spreed-bot/service';
const all = { Bot, record, autoAnswer, shareFolder, collectFiles, startServer, defineBot, commands, mixdown, MeetingRecorder };
const missing = Object.entries(all).filter(([, v]) => typeof v !== 'function').map(([k]) => k);
if (missing.length) throw new Error('missing: ' + missing.join(', '));
for (const [name, mod] of Object.entries({ files, peer, server, service })) if (Object.keys(mod).length === 0) throw new Error('empty subpath ' + name);
console.log('esm ok');
`,
    );
    expect(await bash('node --import ./trace.mjs check.mjs', project)).toContain('esm ok');
    const resolved = await readFile(trace, 'utf8');
    expect(resolved).toContain('/node_modules/spreed-bot/dist/index.js');
    expect(resolved.split('\n').filter((u) => /\/node_modules\/(tsx|esbuild)\//.test(u))).toEqual([]);
    const cjs = await bash(`node -e "const sb = require('spreed-bot'); console.log(typeof sb.Bot, typeof require('spreed-bot/media').mixdown)"`, project);
    expect(cjs.trim()).toBe('function function');
  }, 120_000);

  describe('running the bots against `npx spreed-bot server`', () => {
    beforeAll(async () => {
      server = start(serverCommand.replace('--port 8080', '--port 0'));
      url = (await server.waitFor(/listening on (ws:\/\/\S+)/, 120_000))[1]!;
      tester = await RoomChat.join(url, 'lobby');
    }, 180_000);

    afterAll(async () => {
      server?.interrupt();
      await server?.exited;
    });

    it('npx spreed-bot run my-bot.ts: a chat round trip, then Ctrl-C stops the bot gracefully', async () => {
      const bot = start(runCommand);
      await tester.arrival('Shouty', 120_000);
      expect(await tester.ask('hello from the project', /^hello Tester!$/)).toBe('hello Tester!');
      expect(await tester.ask('!shout packed', /PACKED/)).toContain('PACKED');
      bot.interrupt(); // Ctrl-C: npm exits with 130, the bot stops gracefully on its own
      await bot.exited;
      expect(bot.output()).toMatch(/"msg":"stopped"/);
      expect(bot.output()).not.toContain('forcing');
    }, 300_000);

    it('npx tsx my-script.ts: the script way works in the project too', async () => {
      const script = start(scriptCommand, { SPREED_SERVER: url });
      await tester.arrival('Shouty', 120_000);
      expect(await tester.ask('hello script', /^hello Tester!$/)).toBe('hello Tester!');
      const left = tester.departure('Shouty');
      script.interrupt();
      await left;
      await script.exited;
    }, 300_000);

    it('npx spreed-bot run my-script.ts is refused with exit code 2', async () => {
      const refused = start('npx spreed-bot run my-script.ts --server ws://127.0.0.1:8080/ws');
      expect(await refused.exited).toBe(2);
      expect(refused.output()).toContain('my-script.ts starts its own bot');
    }, 300_000);

    it('loads a .ts bot module and a .ts plugin from a directory without package.json', async () => {
      const etc = join(work, 'etc');
      await mkdir(etc);
      await writeFile(
        join(etc, 'echo-plugin.ts'),
        `import { filter } from 'rxjs';
import type { Plugin } from 'spreed-bot';
const plugin: Plugin = {
  name: 'etc-echo',
  setup: (ctx) => ctx.chat$.pipe(filter((m) => m.text.startsWith('etc '))).subscribe((m) => ctx.chat.reply(m, 'etc plugin: ' + m.text.slice(4))),
};
export default plugin;
`,
      );
      await writeFile(join(etc, 'bot.ts'), `import { commands, defineBot } from 'spreed-bot';\nexport default defineBot({ name: 'EtcBot', plugins: [commands()] });\n`);
      await writeFile(join(etc, 'bots.yaml'), `name: EtcBot\nroom: lobby\nmodule: ./bot.ts\nplugins:\n  - module: ./echo-plugin.ts\n`);
      // The installed command itself (what npx runs), so its own exit code is seen: 0 after SIGINT.
      const bot = start('node_modules/.bin/spreed-bot run ../etc/bots.yaml --server ws://127.0.0.1:8080/ws');
      await tester.arrival('EtcBot', 120_000);
      expect(await tester.ask('etc hello', /^etc plugin:/)).toBe('etc plugin: hello');
      bot.interrupt();
      expect(await bot.exited).toBe(0);
    }, 300_000);
  });
});
