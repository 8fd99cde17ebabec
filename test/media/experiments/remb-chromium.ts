// Experiment (not a test): Chromium → werift video bitrate with and without REMB feedback.
// Run: SECONDS_TO_RUN=35 npx tsx test/media/experiments/remb-chromium.ts remb|none [no-twcc]
// Findings (2026-11-25, one run each, see src/media/README.md "Bandwidth").
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { RTCPeerConnection } from 'werift';
import { recordingCodecs } from '../../../src/media/codecs.js';
import { startBandwidthFeedback } from '../../../src/media/bandwidth.js';

const mode = process.argv[2] ?? 'remb'; // remb | none
const transportCc = process.argv[3] !== 'no-twcc';
const server = createServer((_, res) => res.end('<html><body>x</body></html>')).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const port = (server.address() as { port: number }).port;
const ctx = await chromium.launchPersistentContext('/tmp/exp/profile-' + Date.now(), {
  executablePath: '/usr/bin/chromium', headless: false,
  args: ['--headless=new', '--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await ctx.newPage();
await page.goto(`http://127.0.0.1:${port}/`);
const codecs = recordingCodecs({ h264: false });
if (!transportCc) for (const c of codecs.video) c.rtcpFeedback = c.rtcpFeedback!.filter((f) => f.type !== 'transport-cc');
const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, codecs });
pc.addTransceiver('audio', { direction: 'recvonly' });
pc.addTransceiver('video', { direction: 'recvonly' });
let bytes = 0;
pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => { if (track.kind === 'video') bytes += rtp.payload.length; }));
await pc.setLocalDescription(await pc.createOffer());
const answer = await page.evaluate(async (offer) => {
  const stream = await (globalThis as any).navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  const rpc = new (globalThis as any).RTCPeerConnection();
  (globalThis as any).rpc = rpc;
  await rpc.setRemoteDescription(offer);
  for (const t of stream.getTracks()) rpc.addTrack(t, stream);
  await rpc.setLocalDescription(await rpc.createAnswer());
  await new Promise<void>((r) => { if (rpc.iceGatheringState === 'complete') r(); rpc.onicegatheringstatechange = () => rpc.iceGatheringState === 'complete' && r(); });
  return { type: rpc.localDescription!.type, sdp: rpc.localDescription!.sdp };
}, { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp });
await pc.setRemoteDescription(answer as any);
await new Promise<void>((r) => pc.connectionStateChange.subscribe((s) => s === 'connected' && r()));
const fb = mode === 'remb' ? startBandwidthFeedback(pc, { maxBitrate: 4_000_000 }) : undefined;
const samples: number[] = [];
for (let i = 0; i < Number(process.env.SECONDS_TO_RUN ?? 12); i++) {
  const b0 = bytes;
  await new Promise((r) => setTimeout(r, 1000));
  samples.push(Math.round(((bytes - b0) * 8) / 1000));
}
const stats = await page.evaluate(async () => {
  const out: any[] = [];
  (await (globalThis as any).rpc.getStats()).forEach((s: any) => { if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ w: s.frameWidth, h: s.frameHeight, fps: s.framesPerSecond, target: s.targetBitrate, limit: s.qualityLimitationReason }); });
  return out;
});
console.log(JSON.stringify({ mode, transportCc, kbpsPerSecond: samples, rembSent: fb?.sent, chromium: stats }));
fb?.stop();
await pc.close();
await ctx.close();
server.close();
process.exit(0);
