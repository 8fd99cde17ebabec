/**
 * Issue 13 item 6: the systemd deployment works as shipped. The unit verifies with
 * systemd-analyze, and its sandbox assumptions hold without systemd: a read-only install tree
 * (like ProtectSystem=strict over /opt/spreed-bot), a read-only config dir (/etc/spreed-bot) and
 * a writable state dir as the working directory (StateDirectory=, WorkingDirectory=) — the example
 * config, copied out of the checkout, runs there and records into the state dir.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Bot } from '../../src/index.js';
import { scriptedParticipant } from '../../src/demo/participant.js';
import { readSidecar } from '../../src/media/index.js';
import { freePort } from '../channel/helpers.js';
import { inCI, noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { testServer } from '../helpers/peers.js';

const root = join(import.meta.dirname, '../..');
const unitPath = join(root, 'deploy/spreed-bot.service');
const examplePath = join(root, 'deploy/bots.example.yaml');

/** `Key=value` lines of the [Service] section (later lines win, as in systemd). */
async function serviceSection(): Promise<Record<string, string>> {
  const text = await readFile(unitPath, 'utf8');
  const section = text.split(/^\[/m).find((s) => s.startsWith('Service]'))!;
  const entries = section
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const noSystemdAnalyze = systemdAnalyze ? undefined : "systemd-analyze not found: install the Debian package 'systemd' (apt-get install -y systemd)";
if (noSystemdAnalyze && inCI) throw new Error(`CI must not skip: ${noSystemdAnalyze}`);
if (noSystemdAnalyze) console.warn(`[skip] ${noSystemdAnalyze}`);

describe('deploy/spreed-bot.service', () => {
  it.skipIf(noSystemdAnalyze)('passes systemd-analyze verify without a warning', async () => {
    let unit = unitPath;
    if (!existsSync('/usr/bin/node')) {
      // verify checks that ExecStart's binary exists; point it at this machine's node.
      const dir = await mkdtemp(join(tmpdir(), 'spreed-unit-'));
      unit = join(dir, 'spreed-bot.service');
      await writeFile(unit, (await readFile(unitPath, 'utf8')).replaceAll('/usr/bin/node', process.execPath));
    }
    const { stdout, stderr } = await promisify(execFile)(systemdAnalyze!, ['verify', unit]);
    expect(stdout + stderr).toBe('');
  });

  it('stops the way the drain needs: SIGTERM to node only, time for drainTimeoutMs, state dir as working dir', async () => {
    const service = await serviceSection();
    expect(service.KillMode).toBe('mixed');
    expect(service.KillSignal).toBe('SIGTERM');
    const example = parseYaml(await readFile(examplePath, 'utf8')) as { drainTimeoutMs: number };
    // run.ts allows drainTimeoutMs + 5 s for leaving rooms before it gives up.
    expect(Number(service.TimeoutStopSec) * 1000).toBeGreaterThan(example.drainTimeoutMs + 5000);
    expect(service.StateDirectory).toBe('spreed-bot');
    expect(service.WorkingDirectory).toBe('/var/lib/spreed-bot');
    expect(service.ReadWritePaths).toBeUndefined();
    expect(service.RestartPreventExitStatus).toBe('2');
  });

  it("ExecStart is where the README's install steps put the package's command", async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const command = join('/opt/spreed-bot/node_modules/spreed-bot', pkg.bin['spreed-bot']!);
    expect((await serviceSection()).ExecStart).toBe(`/usr/bin/node ${command} run /etc/spreed-bot/bots.yaml`);
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`sudo npm install --omit=dev --prefix /opt/spreed-bot /tmp/spreed-bot-${pkg.version}.tgz`);
    expect(readme).toContain('sudo install -m 0640 -g spreed-bot deploy/bots.example.yaml /etc/spreed-bot/bots.yaml');
  });

  it('the example config names no relative module path (it is copied to /etc/spreed-bot)', async () => {
    expect(await readFile(examplePath, 'utf8')).not.toMatch(/module:\s*['"]?\.{1,2}\//);
  });
});

/** Makes every file and folder under `path` read-only (0444 / 0555). */
async function readOnlyTree(path: string): Promise<void> {
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(full, 0o555);
    else if (entry.isFile()) await chmod(full, 0o444);
  }
  await chmod(path, 0o555);
}

describe.skipIf(noFfmpeg)('the unit sandbox without systemd: read-only tree and config, writable state dir', () => {
  // As root (containers, CI images) permissions do not stop writes: run as 'nobody' like User=.
  const asRoot = process.getuid?.() === 0;
  const nobody = 65534;
  const bases: string[] = [];

  afterAll(async () => {
    for (const base of bases) {
      for (const entry of await readdir(base, { recursive: true, withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755).catch(() => undefined);
      }
      await chmod(base, 0o755);
      await rm(base, { recursive: true, force: true });
    }
  });

  it('the example config runs from /etc-like copy in a read-only install and records into the state dir', async () => {
    const base = await mkdtemp(join(tmpdir(), 'spreed-sandbox-'));
    bases.push(base);
    await chmod(base, 0o755);
    // /opt/spreed-bot: the checkout (what `npm ci --omit=dev` leaves), read-only.
    const opt = join(base, 'opt');
    await mkdir(opt);
    for (const part of ['bin', 'src', 'bots', 'deploy', 'package.json']) await cp(join(root, part), join(opt, part), { recursive: true });
    await symlink(join(root, 'node_modules'), join(opt, 'node_modules'));
    await readOnlyTree(opt);
    // /var/lib/spreed-bot: owned by the service user.
    const state = join(base, 'state');
    await mkdir(state, { mode: 0o750 });
    if (asRoot) await chown(state, nobody, nobody);

    const server = await testServer();
    const port = await freePort();
    // /etc/spreed-bot/bots.yaml: the example as an operator copies it; only the health port differs here.
    const etc = join(base, 'etc');
    await mkdir(etc);
    await writeFile(join(etc, 'bots.yaml'), (await readFile(examplePath, 'utf8')).replace('port: 9464', `port: ${port}`));
    await readOnlyTree(etc);

    const speaker = new Bot({ server: server.url, room: 'conference/standup', name: 'Speaker', plugins: [scriptedParticipant({ toneHz: 440, hue: 120, lines: [] })] });
    const child = spawn(process.execPath, [join(opt, 'bin/spreed-bot.js'), 'run', join(etc, 'bots.yaml')], {
      cwd: state,
      env: { ...process.env, SPREED_SERVER: server.url, LOG_LEVEL: 'info', HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: nobody, gid: nobody } : {}),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const recordings = join(state, 'recordings');
    const webm = async () =>
      (await readdir(recordings, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && e.name.endsWith('.webm'));
    try {
      // The service runs first, then someone starts a meeting in its room.
      await expect.poll(() => out, { timeout: 60_000 }).toMatch(/"bot":"Recorder".*"msg":"bot started"/);
      await speaker.start();
      await expect.poll(async () => (await webm()).length, { timeout: 60_000, interval: 500 }).toBeGreaterThan(0);
      await expect.poll(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0), { timeout: 20_000 }).toBe(200);
      await new Promise((r) => setTimeout(r, 2000));
      child.kill('SIGTERM'); // KillMode=mixed: the main process only
      expect(await exited, out).toBe(0);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- spreed-bot output ---\n${out}`, { cause: error });
    } finally {
      child.kill('SIGKILL');
      await speaker.stop();
      await server.close();
    }
    expect(out).not.toMatch(/EACCES|EROFS|"level":50/);
    // Relative dirs of the example landed in the working directory.
    expect(existsSync(join(state, 'inbox'))).toBe(true);
    const [file] = await webm();
    const sidecar = await readSidecar(join(file!.parentPath, 'meeting.json'));
    expect(sidecar.files.map((f) => f.state)).toEqual(['finished']);
    const media = await probe(join(file!.parentPath, file!.name));
    expect(media.duration).toBeGreaterThan(0.5);
    expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
  }, 240_000);
});
