import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noFfmpeg } from '../helpers/env.js';
import { fakeMeeting, finishedFile } from './fixtures.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

/** Runs `spreed-bot <args>`; `onLine` sees stdout+stderr lines and may end the wait by returning true. */
function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; onLine?: (line: string) => boolean | Promise<boolean> } = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let ready: (value: string) => void;
  const matched = new Promise<string>((resolve) => (ready = resolve));
  const feed = (chunk: Buffer) => {
    const text = String(chunk);
    out += text;
    for (const line of text.split('\n')) void Promise.resolve(options.onLine?.(line)).then((hit) => hit && ready(line));
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // An early exit ends the wait with the output, instead of a test timeout.
  const line = Promise.race([matched, exited.then((code) => Promise.reject(new Error(`exited with ${code} before the expected line:\n${out}`)))]);
  // A test that only waits for the exit (a refusal) never awaits the line: that is not an unhandled rejection.
  line.catch(() => undefined);
  return { child, matched: line, exited, output: () => out };
}

describe('spreed-bot console', () => {
  it('serves the meetings of a recordings folder until Ctrl-C', async () => {
    const root = await mkdtemp(join(tmpdir(), 'console-cli-'));
    await fakeMeeting(root, 'team', '2026-01-01T09-00-00.000Z', { room: 'team', startedAt: 1000, stoppedAt: 5000, files: [finishedFile('a', 'Alice', 'Alice.webm', 1000, 5000)] });
    const run = runCli(['console', '--dir', root, '--port', '0'], { onLine: (line) => line.startsWith('console: http://127.0.0.1:') });
    const line = await run.matched;
    const url = /(http:\/\/\S+)/.exec(line)![1]!;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('spreed-bot console');
    const list = (await (await fetch(`${url}api/meetings`)).json()) as { meetings: { id: string; participants: string[] }[] };
    expect(list.meetings).toMatchObject([{ id: 'team/2026-01-01T09-00-00.000Z', participants: ['Alice'] }]);
    // Standalone: no bots, no live view.
    expect((await fetch(`${url}api/live`)).status).toBe(404);
    run.child.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(0);
  }, 60_000);

  it('refuses to listen off loopback without a token (exit 2, one line)', async () => {
    const run = runCli(['console', '--dir', tmpdir(), '--host', '0.0.0.0', '--port', '0'], { env: { SPREED_CONSOLE_TOKEN: '' } });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toMatch(/^spreed-bot console: listening on 0\.0\.0\.0 needs a console token: set SPREED_CONSOLE_TOKEN/);
  }, 60_000);
});

describe.skipIf(noFfmpeg)('npm start (the demo) with the console', () => {
  it('prints the console URL, shows the bots live, then the meeting, and stays up until Ctrl-C', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-demo-'));
    const run = runCli(['demo', '--dir', dir], {
      cwd: dir,
      onLine: (line) => line.startsWith('The console stays up at'),
    });
    const line = await run.matched;
    const url = /(http:\/\/\S+?) /.exec(line)![1]!;
    const snapshot = (await (await fetch(`${url}api/live`)).json()) as { bots: { name: string }[] };
    expect(snapshot.bots.map((b) => b.name)).toEqual(expect.arrayContaining(['Recorder', 'File drop']));
    const meetingLink = /^meeting:\s+(\S+)$/m.exec(run.output())![1]!;
    const id = decodeURIComponent(meetingLink.split('#/meeting/')[1]!);
    const meeting = (await (await fetch(`${url}api/meetings/${id.split('/').map(encodeURIComponent).join('/')}`)).json()) as {
      participants: string[];
      timeline: { lanes: { name: string; speech: unknown[] }[] };
    };
    expect(meeting.participants.sort()).toEqual(['Alice', 'Bob']);
    expect(meeting.timeline.lanes.filter((l) => l.speech.length > 0).map((l) => l.name).sort()).toEqual(['Alice', 'Bob']);
    run.child.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(0);
  }, 240_000);
});
