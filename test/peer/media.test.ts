import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import type { RemoteTrackSource } from '../../src/media/types.js';
import { CallManager, answerPolicy, type RemoteTrack } from '../../src/peer/index.js';
import { ntpToUnixMs } from '../../src/media/ntp.js';
import { Hub } from './hub.js';
import { next, until } from './util.js';

const managers: CallManager[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const m of managers.splice(0)) m.close();
});

/** Writes synthetic Opus RTP (a 20 ms silence frame) into a werift track every 20 ms. */
function pumpOpus(track: MediaStreamTrack): void {
  let seq = 1000;
  let ts = 0;
  const ssrc = 0x1234;
  timers.push(
    setInterval(() => {
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: ts, ssrc, marker: false });
      ts = (ts + 960) >>> 0;
      track.writeRtp(new RtpPacket(header, Buffer.from([0xf8, 0xff, 0xfe])));
    }, 20),
  );
}

describe('media', () => {
  it('a local audio track is sent; the remote track has the recorder shape, RTP flows, PLI does not throw', async () => {
    const hub = new Hub();
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const hooked: string[] = [];
    const a = new CallManager({ signaling: hub.join('A'), media: { audioTrack: audio }, onPeerConnection: (_pc, owner) => hooked.push(owner.peerId) });
    const b = new CallManager({ signaling: hub.join('B'), answer: answerPolicy({ kind: 'everyone' }) });
    managers.push(a, b);
    const remote = next(b.tracks$, (t: RemoteTrack) => t.kind === 'audio');
    const call = a.call('B');
    expect(hooked).toEqual(['B']);
    await call.waitFor('connected');
    pumpOpus(audio);
    const track = await remote;
    const forRecorder: RemoteTrackSource = track; // structural fit with the recorder boundary
    expect(forRecorder.participantId).toBe('A');
    expect(track.codec.mimeType.toLowerCase()).toBe('audio/opus');
    expect(track.codec.clockRate).toBe(48000);
    expect(track.codec.channels).toBe(2);
    expect(typeof track.codec.payloadType).toBe('number');
    expect(typeof track.ssrc).toBe('number');
    expect(track.senderReports$).toBeDefined();
    let packets = 0;
    track.rtp$.subscribe((p) => {
      expect(p.payload.length).toBe(3);
      packets++;
    });
    await until(() => packets >= 10, 20_000, 'RTP packets');
    await expect(track.requestKeyframe()).resolves.toBeUndefined();
    const callee = b.calls.get('A')!;
    expect(callee.remoteTracks).toContain(track);

    // Streams complete when the call ends; PLI afterwards resolves quietly.
    let completed = false;
    track.rtp$.subscribe({ complete: () => (completed = true) });
    call.hangup();
    await callee.closed();
    expect(completed).toBe(true);
    await expect(track.requestKeyframe()).resolves.toBeUndefined();
  });

  it("a werift sender's RTCP Sender Reports carry the wall clock the recorder maps RTP to (werift patch)", async () => {
    // werift wrote the decimal digits of the second's fraction into the NTP fraction word, so every
    // Sender Report from a werift peer (bots, the demo's participants) said up to 1 s early, and the
    // recorder anchored such tracks up to 1 s off. Fails without patches/werift+0.24.4.patch.
    const hub = new Hub();
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const a = new CallManager({ signaling: hub.join('A'), media: { audioTrack: audio } });
    const b = new CallManager({ signaling: hub.join('B'), answer: answerPolicy({ kind: 'everyone' }) });
    managers.push(a, b);
    const remote = next(b.tracks$, (t: RemoteTrack) => t.kind === 'audio');
    await a.call('B').waitFor('connected');
    pumpOpus(audio);
    const track = await remote;
    const offsets: number[] = [];
    track.senderReports$!.subscribe((sr) => offsets.push(Date.now() - ntpToUnixMs(sr.ntpTime)));
    await until(() => offsets.length >= 3, 20_000, 'three Sender Reports');
    // The report is stamped at the sender's last RTP packet (at most 20 ms before it leaves) and
    // crosses loopback: arrival minus report time is a few ms, never the fraction of a second.
    for (const offset of offsets) expect(Math.abs(offset)).toBeLessThan(150);
  });

  it('the answering side sends its audio track too, and one track can feed several calls', async () => {
    const hub = new Hub();
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const bot = new CallManager({ signaling: hub.join('BOT'), media: { audioTrack: audio }, answer: answerPolicy({ kind: 'everyone' }) });
    const u1 = new CallManager({ signaling: hub.join('U1') });
    const u2 = new CallManager({ signaling: hub.join('U2') });
    managers.push(bot, u1, u2);
    await Promise.all([u1.call('BOT').waitFor('connected'), u2.call('BOT').waitFor('connected')]);
    pumpOpus(audio);
    let got1 = 0;
    let got2 = 0;
    const t1 = u1.calls.get('BOT')!.remoteTracks[0] ?? (await next(u1.calls.get('BOT')!.tracks$));
    const t2 = u2.calls.get('BOT')!.remoteTracks[0] ?? (await next(u2.calls.get('BOT')!.tracks$));
    t1.rtp$.subscribe(() => got1++);
    t2.rtp$.subscribe(() => got2++);
    await until(() => got1 >= 5 && got2 >= 5, 20_000, 'RTP on both calls');
  });

  it('video: a remote VP8 track arrives and requestKeyframe() delivers a PLI to the sender', async () => {
    const hub = new Hub();
    const video = new MediaStreamTrack({ kind: 'video' });
    const a = new CallManager({ signaling: hub.join('A'), media: { video: 'sendrecv', videoTrack: video } });
    const b = new CallManager({ signaling: hub.join('B'), answer: answerPolicy({ kind: 'everyone' }) });
    managers.push(a, b);
    const remote = next(b.tracks$, (t: RemoteTrack) => t.kind === 'video');
    const call = a.call('B');
    await call.waitFor('connected');
    let seq = 0;
    timers.push(
      setInterval(() => {
        // A minimal VP8 payload descriptor (S=1, PID 0) + a keyframe-looking byte.
        const header = new RtpHeader({ payloadType: 96, sequenceNumber: seq++, timestamp: seq * 3000, ssrc: 0x5678, marker: true });
        video.writeRtp(new RtpPacket(header, Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a])));
      }, 30),
    );
    const track = await remote;
    expect(track.codec.mimeType).toBe('video/VP8');
    expect(track.codec.clockRate).toBe(90000);
    let packets = 0;
    track.rtp$.subscribe(() => packets++);
    await until(() => packets >= 3, 20_000, 'video RTP');
    // werift routes an incoming PSFB by its sender SSRC first, so on a werift sender the PLI may
    // surface on the receiver of the same transport; Chromium handles it as a PLI (MEDIA-NOTES §1).
    let plis = 0;
    const pc = call.peerConnection!;
    for (const endpoint of [...pc.getSenders(), ...pc.getReceivers()])
      endpoint.onRtcp.subscribe((p) => {
        if (p.type === 206) plis++;
      });
    await track.requestKeyframe();
    await until(() => plis >= 1, 20_000, 'PLI at the sender');
  });
});
