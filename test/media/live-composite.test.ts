import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveComposite } from '../../src/media/live-composite.js';
import { liveLayout } from '../../src/media/live-layout.js';
import { detectLiveFeatures, parseLiveTarget } from '../../src/media/live-output.js';
import { ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { meanLuma, probe } from '../helpers/ffprobe.js';
import { connectLoopback } from './helpers/loopback.js';
import { RtpReplayer } from './helpers/rtp-fixture.js';
import { fixture, sleep, startSyntheticCall, type SyntheticCall } from './helpers/synthetic-call.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('live layout and targets', () => {
  it('lays participants out in a grid, a screen share as the main tile with the speakers beside it', () => {
    expect(liveLayout(['a', 'b', 'c', 'd'], undefined, 640, 360).map((t) => [t.x, t.y, t.w, t.h])).toEqual([
      [0, 0, 320, 180],
      [320, 0, 320, 180],
      [0, 180, 320, 180],
      [320, 180, 320, 180],
    ]);
    const shared = liveLayout(['a', 'b'], 'a', 640, 360);
    expect(shared[0]).toMatchObject({ id: 'a:screen', screen: true, x: 0, w: 480, h: 360 });
    expect(shared.slice(1).every((t) => t.x === 480 && t.w === 160)).toBe(true);
  });

  it('reads rtmp/srt URLs and HLS directories; other URLs get a one-line error', () => {
    expect(parseLiveTarget('rtmps://live.example/app/key')).toEqual({ kind: 'rtmp', url: 'rtmps://live.example/app/key' });
    expect(parseLiveTarget('srt://127.0.0.1:9000?mode=caller')).toMatchObject({ kind: 'srt' });
    expect(parseLiveTarget('/var/www/live')).toEqual({ kind: 'hls', dir: '/var/www/live' });
    expect(() => parseLiveTarget('http://x/y?key=secret')).toThrow(/^cannot stream to http:\/\/x\/y: use rtmp/);
  });
});

/** The static ffmpeg 4.1 of `@ffmpeg-installer/ffmpeg` (no SRT in it), when installed. */
const bundled = (() => {
  try {
    const path = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
})();

describe.skipIf(!bundled)('SRT on an ffmpeg without it', () => {
  it('refuses with one line naming the missing protocol and what to install', async () => {
    expect((await detectLiveFeatures(bundled!)).protocols.has('srt')).toBe(false);
    await expect(LiveComposite.start({ target: 'srt://127.0.0.1:9?mode=caller', ffmpeg: { path: bundled!, source: 'npm', version: '4.1' } })).rejects.toThrow(
      /^the ffmpeg at .* lacks protocol srt for streaming to SRT: install Debian's ffmpeg \(apt-get install -y ffmpeg\)$/,
    );
  });
});

describe.skipIf(noFfmpeg).sequential('live composite to real listeners (RTMP, SRT) and HLS', () => {
  let dir: string;
  const calls: SyntheticCall[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spreed-live-'));
  });
  afterAll(async () => {
    for (const c of calls) await c.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs an ffmpeg listener (`listenerArgs` then `-c copy` into `file`), streams `meeting` (given the
   * composite) to `target`, stops, and checks what the listener got: H.264 640x360 + AAC, as long as
   * the meeting.
   */
  async function streamTo(target: string, listenerInput: string[], file: string, meeting: (live: LiveComposite) => Promise<void>): Promise<void> {
    const out = join(dir, file);
    const listener = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...listenerInput, '-c', 'copy', '-y', out], { stdio: ['pipe', 'ignore', 'ignore'] });
    const listenerDone = new Promise((resolve) => listener.once('exit', resolve));
    try {
      await sleep(1500); // the listener binds
      const live = await LiveComposite.start({ target });
      const t0 = Date.now();
      await meeting(live);
      const exit = await live.stop();
      const seconds = (Date.now() - t0) / 1000;
      expect(exit.error).toBeUndefined();
      // The sender's close ends the listener's input; should it not arrive, ask ffmpeg to finish.
      if (!(await Promise.race([listenerDone.then(() => true), sleep(5000).then(() => false)]))) listener.stdin.end('q');
      await listenerDone;
      const media = await probe(out);
      expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      expect(media.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 640, height: 360 });
      expect(Math.abs(media.duration - seconds)).toBeLessThan(2);
    } finally {
      listener.kill('SIGKILL');
    }
  }

  it('streams H.264+AAC over RTMP for the whole meeting while a participant leaves mid-stream', async () => {
    const alice = await startSyntheticCall({ video: 'vp8', participantId: 'alice' });
    const bob = await startSyntheticCall({ video: 'vp8', participantId: 'bob' });
    calls.push(alice, bob);
    const url = `rtmp://127.0.0.1:${await freePort()}/live/test`;
    await streamTo(url, ['-listen', '1', '-i', url], 'received.flv', async (live) => {
      live.setParticipant('alice', alice.sources);
      live.setParticipant('bob', bob.sources);
      live.setTalking('alice', true);
      await sleep(3000);
      expect(live.participants).toEqual(['alice', 'bob']);
      live.removeParticipant('bob'); // leaves mid-stream: the layout changes, the stream goes on
      await sleep(3000);
      expect(live.participants).toEqual(['alice']);
    });
  }, 90_000);

  it('streams H.264+AAC in MPEG-TS over SRT (caller) to an ffmpeg SRT listener', async (ctx) => {
    if (!(await detectLiveFeatures(ffmpegPath)).protocols.has('srt')) ctx.skip(); // the bundled 4.1 pass: covered above
    const alice = await startSyntheticCall({ video: 'vp8', participantId: 'alice' });
    const bob = await startSyntheticCall({ participantId: 'bob' });
    calls.push(alice, bob);
    const port = await freePort();
    await streamTo(`srt://127.0.0.1:${port}?mode=caller`, ['-i', `srt://127.0.0.1:${port}?mode=listener`, '-f', 'mpegts'], 'received.ts', async (live) => {
      live.setParticipant('alice', alice.sources);
      live.setParticipant('bob', bob.sources);
      await sleep(6000);
    });
  }, 90_000);

  it('survives a participant losing every video packet for 3 s: the tile holds its last frame, the stream goes on', async () => {
    const media = await fixture('vp8');
    const call = await connectLoopback({ video: 'vp8', participantId: 'alice' });
    const replayer = new RtpReplayer();
    let dropping = false; // the network loses all of Alice's video, then gives deltas without a keyframe
    replayer.add(media.audio!, (d) => call.tracks.audio!.writeRtp(d));
    replayer.add(media.video!, (d) => void (dropping || call.tracks.video!.writeRtp(d)));
    replayer.start();
    calls.push({ ...call, replayer, close: async () => (replayer.stop(), await call.close()) } as SyntheticCall);
    await call.ready;
    const out = join(dir, 'loss');
    const live = await LiveComposite.start({ target: out });
    const t0 = Date.now();
    live.setParticipant('alice', call.sources);
    await sleep(3500);
    dropping = true;
    await sleep(3000);
    dropping = false;
    await sleep(3500);
    const exit = await live.stop();
    const seconds = (Date.now() - t0) / 1000;
    expect(exit.error).toBeUndefined();
    const playlist = join(out, 'index.m3u8');
    const media2 = await probe(playlist);
    expect(media2.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Math.abs(media2.duration - seconds)).toBeLessThan(2.5);
    // In the middle of the gap Alice's tile still shows her (bright test pattern), not the dark
    // placeholder of a participant without a picture; after it, her video again.
    expect(await meanLuma(playlist, 5, '200:120:220:120')).toBeGreaterThan(70);
    expect(await meanLuma(playlist, 9, '200:120:220:120')).toBeGreaterThan(70);
  }, 90_000);

  it('shows the share as the main tile with the (audio-only) speakers beside it, the grid again when it ends', async () => {
    const alice = await startSyntheticCall({ participantId: 'alice' });
    const bob = await startSyntheticCall({ participantId: 'bob' });
    const screen = await startSyntheticCall({ video: 'vp8', participantId: 'alice' });
    calls.push(alice, bob, screen);
    const live = await LiveComposite.start({ target: dir });
    live.setParticipant('alice', alice.sources);
    live.setParticipant('bob', bob.sources);
    live.setScreen('alice', screen.sources.find((s) => s.kind === 'video'));
    await sleep(6000);
    live.setScreen('alice', undefined);
    await sleep(4000);
    const exit = await live.stop();
    expect(exit.error).toBeUndefined();
    const playlist = join(dir, 'index.m3u8');
    expect((await probe(playlist)).streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // During the share: the main tile (left 3/4) is the share's testsrc, the strip beside it holds
    // the two speakers' placeholders (dark grey) on black.
    expect(await meanLuma(playlist, 4.5, '320:240:80:60')).toBeGreaterThan(70);
    expect(await meanLuma(playlist, 4.5, '140:340:490:10')).toBeLessThan(50);
    // After it: the grid of two placeholders, nothing bright where the share was.
    expect(await meanLuma(playlist, 8.5, '320:240:80:60')).toBeLessThan(50);
  }, 90_000);
});
