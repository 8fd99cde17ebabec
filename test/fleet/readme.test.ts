import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetClient } from '../../src/fleet/index.js';
import { noFfmpeg, noNatsServer } from '../helpers/env.js';
import { repoRoot, readmeSection, shellCommands } from '../package/readme.js';
import { freePort, natsServerPath } from './nats-server.js';
import { startParticipants } from './processes.js';

const commands = shellCommands(readmeSection('Scaling out'));

/**
 * README "Scaling out", run as written in a bash session: the same commands, with free ports
 * instead of 4222/8080/9470/9471 and a temp directory as the working directory.
 */
describe.skipIf(noNatsServer || noFfmpeg).sequential('README "Scaling out"', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('lists the commands this test runs', () => {
    expect(commands).toEqual([
      'nats-server -js -sd /tmp/spreed-nats &',
      './bin/spreed-bot.js server --port 8080 &',
      './bin/spreed-bot.js worker --name w1 --metrics-port 9470 & W1=$!',
      'JOB=$(./bin/spreed-bot.js jobs submit deploy/recorder.job.yaml); echo $JOB',
      './bin/spreed-bot.js worker --name w2 --metrics-port 9471 &',
      './bin/spreed-bot.js jobs list',
      "curl -s http://127.0.0.1:9470/metrics | grep '^spreed_fleet_'",
      'kill -9 $W1',
      'sleep 10',
      './bin/spreed-bot.js jobs list',
      './bin/spreed-bot.js jobs stop $JOB',
      'ls recordings/conference_standup/*/',
    ]);
  });

  it('a worker killed while recording: the job moves to the other worker and the meeting continues', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'fleet-readme-'));
    cleanup.push(() => rm(cwd, { recursive: true, force: true }));
    const [nats, http, m1, m2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    await symlink(join(repoRoot, 'bin'), join(cwd, 'bin'));
    await mkdir(join(cwd, 'deploy'));
    const jobFile = await readFile(join(repoRoot, 'deploy/recorder.job.yaml'), 'utf8');
    await writeFile(join(cwd, 'deploy/recorder.job.yaml'), jobFile.replace('127.0.0.1:8080', `127.0.0.1:${http}`));
    const localize = (line: string) =>
      line
        .replace('nats-server -js -sd /tmp/spreed-nats', `${natsServerPath} -js -sd ${join(cwd, 'nats')} -a 127.0.0.1 -p ${nats}`)
        .replace('--port 8080', `--port ${http}`)
        .replaceAll('9470', String(m1))
        .replaceAll('9471', String(m2));

    const bash = spawn('bash', [], { cwd, env: { ...process.env, SPREED_NATS: `nats://127.0.0.1:${nats}`, LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    bash.stdout.on('data', (d) => (out += d));
    bash.stderr.on('data', (d) => (out += d));
    cleanup.push(async () => {
      bash.stdin.write('kill -9 $(jobs -p) 2>/dev/null; exit\n');
      await new Promise((r) => bash.once('exit', r));
    });
    const waitFor = async (pattern: RegExp, from: number, timeoutMs = 120_000) => {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(out.slice(from))) {
        if (Date.now() > end) throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return out.slice(from);
    };
    let step = 0;
    /** Runs one README line; resolves with what it printed (background programs print later). */
    const sh = async (line: string) => {
      const from = out.length;
      const marker = `__step_${++step}__`;
      bash.stdin.write(`${localize(line)}\necho ${marker}\n`);
      const text = await waitFor(new RegExp(marker), from);
      return text.slice(0, text.indexOf(marker));
    };

    await sh(commands[0]!);
    await sh(commands[1]!);
    await waitFor(/listening on ws:\/\//, 0);
    // A meeting to record: one participant sending a test pattern.
    const people = await startParticipants(`ws://127.0.0.1:${http}/ws`, ['conference/standup']);
    cleanup.push(() => people.proc.kill('SIGKILL'));
    await sh(commands[2]!);
    await waitFor(/worker w1 ready/, 0);
    const id = (await sh(commands[3]!)).match(/j-[\w-]+/)?.[0];
    expect(id, out).toBeDefined();
    await sh(commands[4]!);
    await waitFor(/worker w2 ready/, 0);
    const client = await FleetClient.connect({ nats: `nats://127.0.0.1:${nats}` });
    cleanup.push(() => client.close());
    await expect.poll(async () => (await client.get(id!))?.meetingDir, { timeout: 180_000 }).toBeDefined();
    expect(await sh(commands[5]!)).toMatch(new RegExp(`${id}\\s+running\\s+w1\\s`));
    expect(await sh(commands[6]!)).toMatch(/spreed_fleet_jobs_running\{worker="w1"\} 1/);
    await sh(commands[7]!);
    await sh(commands[8]!);
    // On a loaded machine the hand-over may need a moment more than the README's 10 s.
    await expect.poll(async () => (await client.get(id!))?.worker, { timeout: 30_000 }).toBe('w2');
    expect(await sh(commands[9]!)).toMatch(new RegExp(`${id}\\s+running\\s+w2\\s+\\S+ ago\\s+1\\s`));
    await expect.poll(async () => (await readdir(join(cwd, (await client.get(id!))!.meetingDir!))).some((f) => /\.2\.webm$/.test(f)), { timeout: 60_000 }).toBe(true);
    expect(await sh(commands[10]!)).toContain(`job ${id} stopping`);
    await expect.poll(async () => (await client.get(id!))?.status, { timeout: 60_000 }).toBe('stopped');
    const listing = await sh(commands[11]!);
    expect(listing).toContain('meeting.json');
    expect(listing).toMatch(/P0\.webm/);
    expect(listing).toMatch(/P0\.2\.webm/);
  }, 600_000);
});
