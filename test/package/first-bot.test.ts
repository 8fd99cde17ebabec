import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { RoomChat } from '../helpers/room-chat.js';
import { fileBlock, readmeSection, repoRoot, shellCommands } from './readme.js';

// README "Write your first bot", as written, at "the top of this repository": a temporary
// directory that links the repository's src/, bin/, node_modules/ and package.json, so the
// README's files and relative imports work unchanged and nothing is written into the checkout.
const section = readmeSection('Write your first bot');
const commands = shellCommands(section);
const serverCommand = './bin/spreed-bot.js server --port 8080';
const botCommand = './bin/spreed-bot.js run my-bot.ts --server ws://127.0.0.1:8080/ws --room lobby';
const scriptCommand = 'npx tsx my-script.ts';
const echoCommand = './bin/spreed-bot.js run bots/echo.ts --server ws://127.0.0.1:8080/ws --room lobby';

let top: string;
let server: CliProcess;
let url: string;
let tester: RoomChat;
const started: CliProcess[] = [];

function start(command: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const [file, ...args] = command.replaceAll('ws://127.0.0.1:8080/ws', url).split(' ');
  const proc = startCli(file!, args, { cwd: top, env: { LOG_LEVEL: 'info', ...env } });
  started.push(proc);
  return proc;
}

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), 'spreed-first-bot-'));
  for (const entry of ['src', 'bin', 'bots', 'node_modules', 'package.json']) await symlink(join(repoRoot, entry), join(top, entry));
  for (const file of ['shout.ts', 'my-bot.ts', 'my-script.ts']) await writeFile(join(top, file), fileBlock(section, file));
  const [file, ...args] = serverCommand.replace('--port 8080', '--port 0').split(' ');
  server = startCli(file!, args, { cwd: top });
  url = (await server.waitFor(/listening on (ws:\/\/\S+)/))[1]!;
  tester = await RoomChat.join(url, 'lobby');
}, 120_000);

afterAll(async () => {
  await tester?.close();
  for (const proc of started) proc.kill();
  server?.interrupt();
  await server?.exited;
  await rm(top, { recursive: true, force: true });
});

describe('README "Write your first bot"', () => {
  it('shows exactly the commands this test runs', () => {
    expect(commands).toEqual([serverCommand, botCommand, scriptCommand, echoCommand]);
  });

  it('the CLI way: spreed-bot run my-bot.ts answers in the room and stops on Ctrl-C with exit code 0', async () => {
    const bot = start(botCommand);
    await tester.arrival('Shouty');
    expect(await tester.ask('hello there', /^hello Tester!$/)).toBe('hello Tester!');
    expect(await tester.ask('!shout hi there', /HI THERE/)).toContain('HI THERE');
    bot.interrupt();
    expect(await bot.exited).toBe(0);
  }, 120_000);

  it('the script way: npx tsx my-script.ts answers in the room and stops on Ctrl-C', async () => {
    const script = start(scriptCommand, { SPREED_SERVER: url });
    await tester.arrival('Shouty');
    expect(await tester.ask('hello again', /^hello Tester!$/)).toBe('hello Tester!');
    const left = tester.departure('Shouty');
    script.interrupt();
    await left; // the script's SIGINT handler stopped the bot: it left the room
    await script.exited; // npx (exit code 130 after Ctrl-C), tsx and the script all ended
  }, 120_000);

  it('spreed-bot run refuses the script (exit code 2) and says which way to use', async () => {
    const refused = start('./bin/spreed-bot.js run my-script.ts --server ws://127.0.0.1:8080/ws');
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain('my-script.ts starts its own bot');
    expect(refused.output()).toContain('npx tsx my-script.ts');
    expect(refused.output()).toContain('export default defineBot');
  }, 120_000);

  it('a ready bot from bots/ runs with the CLI', async () => {
    const echo = start(echoCommand);
    await tester.arrival('Echo');
    expect(await tester.ask('ping', /said: ping/)).toBe('Tester said: ping');
    echo.interrupt();
    expect(await echo.exited).toBe(0);
  }, 120_000);
});
