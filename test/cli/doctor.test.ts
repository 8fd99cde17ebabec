/** Issue 12 item 7: `spreed-bot doctor` checks what each feature needs and says what to install. */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSidecar, readSidecar, type Sidecar } from '../../src/media/index.js';
import { noFfmpeg } from '../helpers/env.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

function doctor(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, 'doctor', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe.skipIf(noFfmpeg)('spreed-bot doctor', () => {
  it('reports ffmpeg per feature, UDP, the recordings dir, test-only tools; repairs a killed recorder\'s sidecar', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    const meeting = join(dir, 'room', '2026-01-01T00-00-00.000Z');
    await mkdir(meeting, { recursive: true });
    const killed: Sidecar = {
      version: 1,
      room: 'room',
      startedAt: 1000,
      writer: { pid: 999_999_999, host: hostname() },
      files: [{ participantId: 'p', participantName: 'Alice', file: 'Alice.webm', codecs: ['audio/opus'], kinds: ['audio'], segment: 1, startedAt: 1100, state: 'recording' }],
      events: [],
      speakerTimeline: [],
    };
    await writeFile(join(meeting, 'meeting.json'), formatSidecar(killed));
    const { code, out } = await doctor(['--dir', dir]);
    expect(code, out).toBe(0);
    for (const line of [/^\s+node\s+v\d+/m, /^\s+ffmpeg\s+(system|bundled npm|SPREED_BOT_FFMPEG) ffmpeg \S+ at /m, /^\s+recording\s+ok$/m, /^\s+mix-down\s+ok$/m, /^\s+udp\s+ok/m]) {
      expect(out).toMatch(line);
    }
    expect(out).toContain(`${dir} is writable`);
    expect(out).toMatch(/ffprobe .*only the tests use it/);
    expect(out).toMatch(/repaired\s+.*meeting\.json: a killed recorder left it 'recording'/);
    const repaired = await readSidecar(join(meeting, 'meeting.json'));
    expect(repaired.stoppedAt).toBeDefined();
    expect(repaired.files[0]!.state).toBe('failed'); // no file on disk
  });

  it('names what is missing and exits 1: an unwritable recordings dir, an ffmpeg without the encoders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    const file = join(dir, 'not-a-dir');
    await writeFile(file, '');
    // An "ffmpeg" that answers -version but knows no encoder or filter.
    const bare = join(dir, 'bare-ffmpeg');
    await writeFile(bare, '#!/bin/sh\ncase "$*" in *-version*) echo "ffmpeg version 9.9-bare"; echo "libavformat    61.  1.100 / 61.  1.100";; esac\nexit 0\n');
    await chmod(bare, 0o755);
    const { code, out } = await doctor(['--dir', join(file, 'recordings')], { SPREED_BOT_FFMPEG: bare });
    expect(code, out).toBe(1);
    expect(out).toMatch(/✗ recordings\s+.*is not writable \(ENOTDIR\)/);
    expect(out).toMatch(/✗ {3}demo\s+not possible: this ffmpeg lacks encoder libvpx, encoder libopus.*apt-get install -y ffmpeg/);
    expect(out).toMatch(/✗ {3}recording\s+not possible: this ffmpeg lacks demuxer option RTSP socket timeout/);
  });
});
