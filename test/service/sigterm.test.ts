import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bot } from '../../src/index.js';
import { scriptedParticipant } from '../../src/demo/participant.js';
import { noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { testServer } from '../helpers/peers.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(noFfmpeg)('spreed-bot run as a service', () => {
  it('keeps recording when another bot of the process has a wrong PIN, and SIGTERM finalises the files and exits 0', async () => {
    const server = await testServer();
    const dir = await mkdtemp(join(tmpdir(), 'spreed-svc-'));
    const port = await freePort();
    // The room is created with a PIN by a participant.
    const participant = new Bot({
      server: server.url,
      room: 'conference/secure',
      pin: '4321',
      name: 'Speaker',
      plugins: [scriptedParticipant({ toneHz: 300, hue: 200, lines: [] })],
    });
    await participant.start();
    const config = join(dir, 'bots.yaml');
    await writeFile(
      config,
      [
        `server: ${server.url}`,
        `health: { port: ${port} }`,
        `drainTimeoutMs: 20000`,
        `bots:`,
        `  - name: Recorder`,
        `    room: conference/secure`,
        `    pin: "4321"`,
        `    plugins: [autoAnswer, { name: record, options: { dir: "${join(dir, 'rec')}" } }]`,
        `  - name: Intruder`,
        `    room: conference/secure`,
        `    pin: "0000"`,
        `    plugins: [commands]`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, [bin, 'run', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // The recorder joins the conference room and records the speaker; the intruder keeps failing.
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '')).match(/spreed_bot_recording_bytes_written\w*\{[^}]*bot="Recorder"[^}]*\} (\d+)/)?.[1] ?? '0', {
          timeout: 60_000,
          interval: 500,
        })
        .not.toBe('0');
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
      expect(ready).toMatchObject({ ready: false, unready: ['Intruder'] });
      expect(out).toContain('invalid_credentials');
      expect(out).not.toContain('"4321"');
      child.kill('SIGTERM');
      expect(await exited, out).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await participant.stop();
      await server.close();
    }
    const roomDir = join(dir, 'rec', 'conference_secure');
    const [session] = await readdir(roomDir);
    const files = (await readdir(join(roomDir, session!))).filter((f) => f.endsWith('.webm'));
    expect(files).toEqual(['Speaker.webm']);
    const media = await probe(join(roomDir, session!, files[0]!));
    expect(media.duration).toBeGreaterThan(0.5);
    expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
  }, 120_000);
});
