import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { readSidecar } from '../../src/media/index.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

describe.skipIf(noFfmpeg)('npm start demo (--once)', () => {
  it('records both scripted participants, writes the sidecar and collects the shared file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-demo-'));
    const child = spawn(process.execPath, [bin, 'demo', '--once', '--dir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/ffmpeg: (system|bundled npm)/);
    const sidecarPath = join(dir, /sidecar:\s+(\S.*)$/m.exec(out)![1]!.trim());
    const collected = join(dir, /collected:\s+(\S.*)$/m.exec(out)![1]!.trim());
    expect(await readFile(collected, 'utf8')).toContain('Demo agenda');
    const sidecar = await readSidecar(sidecarPath);
    const byName = new Map(sidecar.files.filter((f) => f.state === 'finished').map((f) => [f.participantName, f]));
    for (const name of ['Alice', 'Bob']) {
      const file = byName.get(name);
      expect(file, `${name} recorded`).toBeDefined();
      const media = await probe(join(sidecarPath, '..', file!.file));
      expect(media.duration).toBeGreaterThan(2);
      expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    }
    expect(sidecar.speakerTimeline.length).toBeGreaterThan(0);
    expect(sidecar.stoppedAt).toBeGreaterThan(sidecar.startedAt);
  }, 180_000);
});
