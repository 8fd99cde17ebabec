import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledFfmpegPass, ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { readSidecar } from '../../src/media/index.js';

const bin = join(import.meta.dirname, '../../bin/spreed-bot.js');

/** Runs `spreed-bot demo --once` in `dir` (its own temp dir as TMPDIR); resolves with exit code and output. */
async function demo(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; tmp: string }> {
  const tmp = join(dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  const child = spawn(process.execPath, [bin, 'demo', '--once', '--dir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out, tmp };
}

/** Every path the demo printed (recording files, sidecar, collected file), resolved against `dir`. */
function printedPaths(out: string, dir: string): string[] {
  return [...out.matchAll(/^(?:\s+|sidecar:\s+|collected:\s+)(\S+\.(?:webm|mkv|ogg|json|txt))\b/gm)].map((m) => (isAbsolute(m[1]!) ? m[1]! : join(dir, m[1]!)));
}

const exists = (path: string) => stat(path).then((s) => s.size > 0, () => false);

describe.skipIf(noFfmpeg)(`npm start demo (--once)${bundledFfmpegPass ? ' with the bundled ffmpeg' : ''}`, () => {
  it('records both scripted participants, writes a readable sidecar, collects the file and cleans up after itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-demo-'));
    // Copies an earlier round left: the demo replaces them instead of adding `agenda (2).txt`.
    await mkdir(join(dir, 'demo-files'), { recursive: true });
    await writeFile(join(dir, 'demo-files', 'agenda.txt'), 'old');
    await writeFile(join(dir, 'demo-files', 'agenda (1).txt'), 'old');
    const { code, out, tmp } = await demo(dir);
    expect(code, out).toBe(0);
    expect(out).toMatch(bundledFfmpegPass ? /ffmpeg: bundled npm/ : /ffmpeg: (system|bundled npm)/);
    expect(out).not.toMatch(/^\s*\{/m); // no JSON log lines
    const printed = printedPaths(out, dir);
    expect(printed.length).toBeGreaterThanOrEqual(4);
    for (const path of printed) expect(await exists(path), `${path} was printed`).toBe(true);

    const sidecarPath = join(dir, /sidecar:\s+(\S.*)$/m.exec(out)![1]!.trim());
    const collected = join(dir, /collected:\s+(\S.*)$/m.exec(out)![1]!.trim());
    expect(await readFile(collected, 'utf8')).toContain('Demo agenda');
    expect((await readdir(join(dir, 'demo-files'))).sort()).toEqual(['agenda.txt']);
    expect((await readdir(tmp)).filter((n) => n.startsWith('spreed-demo-share-'))).toEqual([]);

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
    expect(sidecar.speakerTimeline.every((t) => t.name === 'Alice' || t.name === 'Bob')).toBe(true);
    expect(sidecar.stoppedAt).toBeGreaterThan(sidecar.startedAt);
    const raw = JSON.parse(await readFile(sidecarPath, 'utf8')) as { timeUnit: string; startedAtIso: string };
    expect(raw.timeUnit).toMatch(/milliseconds/);
    expect(new Date(raw.startedAtIso).getTime()).toBe(sidecar.startedAt);
  }, 240_000);

  // The demo's honesty does not depend on the ffmpeg build: run once, with the system one.
  it.skipIf(bundledFfmpegPass)('with recording broken it says why in one line per participant, prints no missing path and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spreed-demo-broken-'));
    // An ffmpeg that makes test patterns but cannot record (its RTSP input fails at once).
    const broken = join(dir, 'broken-ffmpeg');
    await writeFile(broken, `#!/bin/sh\ncase "$*" in *rtsp://*) echo "simulated: no recording today" >&2; exit 1;; esac\nexec ${ffmpegPath} "$@"\n`);
    await chmod(broken, 0o755);
    const { code, out, tmp } = await demo(dir, { SPREED_BOT_FFMPEG: broken });
    expect(code, out).toBe(1);
    // ffmpeg's reason on one line (on a loaded machine a participant may not get as far as a file: then that is said).
    expect(out).toMatch(/^failed: recording of (Alice|Bob) failed: ffmpeg exited with code 1: simulated: no recording today$/m);
    for (const name of ['Alice', 'Bob']) expect(out).toMatch(new RegExp(`^failed: recording of ${name} failed: .+$`, 'm'));
    expect(out).not.toMatch(/Alice\.webm|Bob\.webm/);
    expect(out).not.toMatch(/^\s*\{/m);
    for (const path of printedPaths(out, dir)) expect(await exists(path), `${path} was printed`).toBe(true);
    expect((await readdir(tmp)).filter((n) => n.startsWith('spreed-demo-share-'))).toEqual([]);
  }, 240_000);
});
