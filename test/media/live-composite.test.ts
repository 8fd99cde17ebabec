import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveComposite } from '../../src/media/live-composite.js';
import { liveLayout } from '../../src/media/live-layout.js';
import { parseLiveTarget } from '../../src/media/live-output.js';
import { ffmpegPath, noFfmpeg } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { sleep, startSyntheticCall, type SyntheticCall } from './helpers/synthetic-call.js';

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

describe.skipIf(noFfmpeg).sequential('live composite to a local RTMP listener (ffmpeg -listen 1)', () => {
  let dir: string;
  const calls: SyntheticCall[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spreed-live-'));
  });
  afterAll(async () => {
    for (const c of calls) await c.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('streams H.264+AAC for the whole meeting while a participant leaves mid-stream', async () => {
    const port = await freePort();
    const out = join(dir, 'received.flv');
    const listener = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-listen', '1', '-i', `rtmp://127.0.0.1:${port}/live/test`, '-c', 'copy', '-y', out], { stdio: 'ignore' });
    const listenerDone = new Promise((resolve) => listener.once('exit', resolve));
    try {
      const alice = await startSyntheticCall({ video: 'vp8', participantId: 'alice' });
      const bob = await startSyntheticCall({ video: 'vp8', participantId: 'bob' });
      calls.push(alice, bob);
      await sleep(1500); // the listener binds
      const live = await LiveComposite.start({ target: `rtmp://127.0.0.1:${port}/live/test` });
      const t0 = Date.now();
      live.setParticipant('alice', alice.sources);
      live.setParticipant('bob', bob.sources);
      live.setTalking('alice', true);
      await sleep(3000);
      expect(live.participants).toEqual(['alice', 'bob']);
      live.removeParticipant('bob'); // leaves mid-stream: the layout changes, the stream goes on
      await sleep(3000);
      expect(live.participants).toEqual(['alice']);
      const exit = await live.stop();
      const seconds = (Date.now() - t0) / 1000;
      expect(exit.error).toBeUndefined();
      await listenerDone;
      const media = await probe(out);
      expect(media.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      expect(media.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 640, height: 360 });
      expect(Math.abs(media.duration - seconds)).toBeLessThan(2);
    } finally {
      listener.kill('SIGKILL');
    }
  }, 90_000);
});
