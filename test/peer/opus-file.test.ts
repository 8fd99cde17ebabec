import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import prism from 'prism-media';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import { CallManager, answerPolicy } from '../../src/peer/index.js';
import { noFfmpeg } from '../helpers/env.js';
import { Hub } from './hub.js';
import { next, until } from './util.js';

const dir = mkdtempSync(join(tmpdir(), 'peer-opus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opus packets of an ffmpeg-made .ogg (1 s sine), split by prism-media's OggDemuxer. */
async function opusPackets(): Promise<Buffer[]> {
  const file = join(dir, 'tone.ogg');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libopus', '-b:a', '32k', '-y', file]);
  const packets: Buffer[] = [];
  const demuxer = createReadStream(file).pipe(new prism.opus.OggDemuxer());
  for await (const chunk of demuxer) packets.push(chunk as Buffer);
  return packets;
}

describe.skipIf(noFfmpeg)('real Opus from an ogg file', () => {
  it('arrives byte-identical at the remote track', async () => {
    const packets = await opusPackets();
    expect(packets.length).toBeGreaterThan(40);
    const hub = new Hub();
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const a = new CallManager({ signaling: hub.join('A'), media: { audioTrack: audio } });
    const b = new CallManager({ signaling: hub.join('B'), answer: answerPolicy({ kind: 'everyone' }) });
    try {
      const remote = next(b.tracks$);
      await a.call('B').waitFor('connected');
      const track = await remote;
      const received: Buffer[] = [];
      track.rtp$.subscribe((p) => received.push(p.payload));
      for (let i = 0; i < packets.length; i++) {
        const header = new RtpHeader({ payloadType: 111, sequenceNumber: i, timestamp: i * 960, ssrc: 1, marker: i === 0 });
        audio.writeRtp(new RtpPacket(header, packets[i]!));
        await new Promise((r) => setTimeout(r, 5));
      }
      await until(() => received.length >= packets.length - 2, 20_000, 'Opus packets');
      // Loopback: nothing lost or reordered in practice; compare what arrived.
      const sent = new Set(packets.map((p) => p.toString('hex')));
      expect(received.every((p) => sent.has(p.toString('hex')))).toBe(true);
    } finally {
      a.close();
      b.close();
    }
  });
});
