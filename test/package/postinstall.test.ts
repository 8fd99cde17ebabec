import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WERIFT_UNPATCHED_NOTE } from '../../src/files/werift-tuning.js';
import { repoRoot } from './readme.js';

// scripts/postinstall.mjs as npm runs it for a project that depends on spreed-bot: from
// <app>/node_modules/spreed-bot, in a fake tree with the real patch, script and patch-package.
const exec = promisify(execFile);
const requireFromRepo = createRequire(join(repoRoot, 'package.json'));
const patchedFiles = [
  'lib/index.mjs',
  'lib/sctp/src/sctp.js',
  'lib/sctp/src/sctp.d.ts',
  'lib/dtls/src/flight/client/flight3.js',
  'lib/dtls/src/flight/flight.js',
  'lib/dtls/src/socket.d.ts',
  'lib/dtls/src/cipher/ec.js',
  'lib/dtls/src/cipher/namedCurve.js',
  'lib/dtls/src/cipher/prf.js',
  'lib/webrtc/src/peerConnection.d.ts',
  'lib/webrtc/src/transport/dtls.js',
  'lib/ice/src/ice.js',
  'lib/ice/src/iceBase.d.ts',
  'lib/webrtc/src/secureTransportManager.js',
  'lib/common/src/binary.js',
  'lib/common/src/number.js',
  'lib/webrtc/src/media/parameters.js',
  'lib/webrtc/src/utils.js',
  'lib/ice/src/iceBase.js',
];
const notPatched = /^spreed-bot: werift not patched \((.+)\); file transfers use werift's default pacing and a call with a busy peer can fail its DTLS handshake$/;

let app: string;
let spreedBot: string;

beforeEach(async () => {
  app = await mkdtemp(join(tmpdir(), 'spreed-postinstall-'));
  spreedBot = join(app, 'node_modules/spreed-bot');
  await mkdir(spreedBot, { recursive: true });
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'my-bots', version: '1.0.0' }));
  for (const entry of ['package.json', 'scripts', 'patches']) await cp(join(repoRoot, entry), join(spreedBot, entry), { recursive: true });
  await symlink(join(repoRoot, 'node_modules/patch-package'), join(app, 'node_modules/patch-package'));
});

afterEach(async () => {
  await rm(app, { recursive: true, force: true });
});

async function postinstall(): Promise<string[]> {
  const { stdout, stderr } = await exec(process.execPath, ['scripts/postinstall.mjs'], { cwd: spreedBot, env: { ...process.env, INIT_CWD: app } });
  expect(stderr).toBe('');
  return stdout.trim().split('\n');
}

/** A copy of this checkout's werift 0.24.4 with the patch taken out again: what npm installs. */
async function unpatchedWerift(into: string): Promise<string> {
  const dir = join(into, 'node_modules/werift');
  await cp(join(repoRoot, 'node_modules/werift'), dir, { recursive: true });
  const { parsePatchFile } = requireFromRepo('patch-package/dist/patch/parse') as { parsePatchFile(text: string): unknown[] };
  const { reversePatch } = requireFromRepo('patch-package/dist/patch/reverse') as { reversePatch(effects: unknown[]): unknown[] };
  const { executeEffects } = requireFromRepo('patch-package/dist/patch/apply') as { executeEffects(e: unknown[], o: object): void };
  const patch = await readFile(join(repoRoot, 'patches/werift+0.24.4.patch'), 'utf8');
  executeEffects(reversePatch(parsePatchFile(patch)), { dryRun: false, cwd: into });
  expect(await readFile(join(dir, 'lib/index.mjs'), 'utf8')).not.toContain('maxBurst');
  return dir;
}

async function fakeWerift(dir: string, version: string): Promise<void> {
  for (const file of patchedFiles) await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'werift', version, main: 'lib/index.js' }));
  await writeFile(join(dir, 'lib/index.js'), 'module.exports = {};\n');
  for (const file of patchedFiles) await writeFile(join(dir, file), `// werift ${version}: ${file}\n`);
}

async function contents(dir: string): Promise<string[]> {
  return Promise.all(patchedFiles.map((file) => readFile(join(dir, file), 'utf8')));
}

function count(text: string, marker: string): number {
  return text.split(marker).length - 1;
}

describe('scripts/postinstall.mjs in a project that depends on spreed-bot', () => {
  it('another werift version: one line, exit 0, nothing modified', async () => {
    const werift = join(app, 'node_modules/werift');
    await fakeWerift(werift, '0.25.0');
    const before = await contents(werift);
    const lines = await postinstall();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(notPatched);
    expect(lines[0]).toContain('werift 0.25.0 found, the patch is for 0.24.4');
    expect(await contents(werift)).toEqual(before);
  });

  it('werift 0.24.4 whose files differ from the release: one line, exit 0, nothing modified', async () => {
    const werift = join(app, 'node_modules/werift');
    await fakeWerift(werift, '0.24.4');
    const before = await contents(werift);
    const lines = await postinstall();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(notPatched);
    expect(lines[0]).toContain('the patch does not apply');
    expect(await contents(werift)).toEqual(before);
  });

  it('no werift at all: one line, exit 0', async () => {
    const lines = await postinstall();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(notPatched);
  });

  it('werift 0.24.4: patched once; a second run exits 0 and changes nothing', async () => {
    const werift = await unpatchedWerift(app);
    expect(await postinstall()).toEqual([`spreed-bot: patched werift 0.24.4 (${werift})`]);
    const once = await contents(werift);
    expect(count(once[0]!, 'maxBurst = 4;')).toBe(1);
    expect(count(once[1]!, '"maxBurst"')).toBe(1);
    expect(count(once[2]!, 'maxBurst: number;')).toBe(1);
    expect(await postinstall()).toEqual([`spreed-bot: werift 0.24.4 already patched (${werift})`]);
    expect(await contents(werift)).toEqual(once);
  });

  it('patches the werift spreed-bot loads: its nested 0.24.4, not the app\'s hoisted other version', async () => {
    const hoisted = join(app, 'node_modules/werift');
    await fakeWerift(hoisted, '0.25.0');
    const before = await contents(hoisted);
    const nested = await unpatchedWerift(spreedBot);
    expect(await postinstall()).toEqual([`spreed-bot: patched werift 0.24.4 (${nested})`]);
    expect(await readFile(join(nested, 'lib/index.mjs'), 'utf8')).toContain('maxBurst = 4;');
    expect(await contents(hoisted)).toEqual(before);
  });

  it('a pnpm layout is left alone: one line, exit 0, nothing modified', async () => {
    const store = join(app, 'node_modules/.pnpm/werift@0.24.4/node_modules');
    await mkdir(store, { recursive: true });
    const werift = await unpatchedWerift(join(app, 'node_modules/.pnpm/werift@0.24.4'));
    await symlink(werift, join(app, 'node_modules/werift'));
    const before = await contents(werift);
    const lines = await postinstall();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(notPatched);
    expect(lines[0]).toContain('pnpm');
    expect(await contents(werift)).toEqual(before);
  });
});

describe('unpatched werift at run time (npm install --ignore-scripts)', () => {
  it('a file channel logs one info line, once per process', async () => {
    const script = `import { raiseWeriftSctpBurst } from './src/files/werift-tuning.ts';
const unpatched = { sctp: { sctp: {} } };
console.log('results', raiseWeriftSctpBurst(unpatched), raiseWeriftSctpBurst(unpatched));`;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info' } });
    const lines = stdout.trim().split('\n');
    expect(lines.filter((line) => line.includes(WERIFT_UNPATCHED_NOTE))).toHaveLength(1);
    expect(JSON.parse(lines.find((line) => line.includes(WERIFT_UNPATCHED_NOTE))!)).toMatchObject({ level: 30, name: 'spreed-bot' });
    expect(lines).toContain('results false false');
  });
});
