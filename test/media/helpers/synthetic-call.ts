import { connectLoopback, type LoopbackCall } from './loopback.js';
import { makeRtpFixture, RtpReplayer, type RtpFixture } from './rtp-fixture.js';

const fixtures = new Map<string, Promise<RtpFixture>>();

/** A cached fixture per codec (4 s, looped by the replayer). */
export function fixture(video: 'vp8' | 'h264' | 'none'): Promise<RtpFixture> {
  let f = fixtures.get(video);
  if (!f) fixtures.set(video, (f = makeRtpFixture({ seconds: 4, video: video === 'none' ? undefined : video })));
  return f;
}

/** A werift sender replaying pre-encoded media to a werift receiver on loopback. */
export interface SyntheticCall extends LoopbackCall {
  replayer: RtpReplayer;
}

/** Starts a loopback call sending the fixture in real time; resolves once the receiver has every track. */
export async function startSyntheticCall(options: { video?: 'vp8' | 'h264'; participantId?: string } = {}): Promise<SyntheticCall> {
  const media = await fixture(options.video ?? 'none');
  const call = await connectLoopback({ video: options.video, participantId: options.participantId });
  const replayer = new RtpReplayer();
  if (call.tracks.audio) replayer.add(media.audio!, (d) => call.tracks.audio!.writeRtp(d));
  if (call.tracks.video) replayer.add(media.video!, (d) => call.tracks.video!.writeRtp(d));
  replayer.start();
  await call.ready;
  const close = call.close.bind(call);
  return Object.assign(call, {
    replayer,
    close: async () => {
      replayer.stop();
      await close();
    },
  });
}

/** Sleeps. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
