import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, record } from '../../src/index.js';
import { scriptedParticipant } from '../../src/demo/participant.js';
import { BotMetrics, startHealthServer, type HealthServer } from '../../src/service/index.js';
import { noFfmpeg } from '../helpers/env.js';
import { testServer } from '../helpers/peers.js';
import { waitUntil } from '../helpers/poll.js';

describe.skipIf(noFfmpeg)('health, readiness and metrics endpoints', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let health: HealthServer;
  const metrics = new BotMetrics();
  let recorder: Bot;
  let caller: Bot;

  beforeAll(async () => {
    server = await testServer();
    const dir = await mkdtemp(join(tmpdir(), 'spreed-health-'));
    recorder = new Bot({ server: server.url, room: 'health', name: 'Recorder', plugins: [autoAnswer(), record({ dir })] });
    metrics.track(recorder);
    health = await startHealthServer({ port: 0, metrics, bots: () => [recorder] });
    const notReady = await fetch(`${health.url}/readyz`);
    expect(notReady.status).toBe(503);
    await recorder.start();
    caller = new Bot({
      server: server.url,
      room: 'health',
      name: 'Caller',
      plugins: [scriptedParticipant({ toneHz: 500, hue: 40, lines: [] })],
    });
    await caller.start();
    const call = caller.services.require('calls').call(recorder.channel.id!);
    await call.waitFor('connected', 20_000);
    await waitUntil(() => recorder.services.require('recorder').state.status, (s) => s === 'recording', 10_000, 'recording');
    await waitUntil(() => recorder.services.require('recorder').stats?.bytesWritten ?? 0, (n) => n > 0, 15_000, 'bytes written');
  }, 60_000);

  afterAll(async () => {
    await caller?.stop();
    await recorder?.stop();
    await health?.close();
    await server?.close();
  });

  it('/healthz answers ok', async () => {
    const res = await fetch(`${health.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('/readyz reports the bot connected and joined', async () => {
    const res = await fetch(`${health.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, bots: [{ name: 'Recorder', state: 'running', channel: 'joined' }] });
  });

  const scrape = async () => {
    const text = await (await fetch(`${health.url}/metrics`)).text();
    return { text, value: (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN) };
  };

  it('/metrics shows the call, the recording, bytes, RTP streams and documents by type', async () => {
    const { text, value } = await scrape();
    expect(value(/spreed_bot_connection_state\{bot="Recorder",state="joined"\} (\d+)/)).toBe(1);
    expect(value(/spreed_bot_calls_active\{bot="Recorder"\} (\d+)/)).toBe(1);
    // One participant sending audio and video is one participant being recorded, not two tracks.
    expect(value(/spreed_bot_recordings_active\{bot="Recorder"\} (\d+)/)).toBe(1);
    expect(text).toContain('# TYPE spreed_bot_recording_bytes_written_total counter');
    expect(value(/spreed_bot_recording_bytes_written_total\{bot="Recorder"\} (\d+)/)).toBeGreaterThan(0);
    expect(value(/spreed_bot_recording_packets_dropped_total\{bot="Recorder"\} (\d+)/)).toBe(0);
    // RTP streams are labelled by the participant's display name, not a session id prefix.
    expect(value(/spreed_bot_rtp_packets_received\{bot="Recorder",participant="Caller",kind="audio"\} (\d+)/)).toBeGreaterThan(0);
    expect(value(/spreed_bot_rtp_packets_received\{bot="Recorder",participant="Caller",kind="video"\} (\d+)/)).toBeGreaterThan(0);
    expect(value(/spreed_bot_documents_in_total\{bot="Recorder",type="Offer"\} (\d+)/)).toBe(1);
    expect(value(/spreed_bot_documents_out_total\{bot="Recorder",type="Answer"\} (\d+)/)).toBe(1);
    expect(text).toContain('spreed_bot_reconnects_total');
  });

  it('bytes written is a counter that keeps its value after the recording ends', async () => {
    const before = (await scrape()).value(/spreed_bot_recording_bytes_written_total\{bot="Recorder"\} (\d+)/);
    const finished = await recorder.services.require('recorder').stop();
    expect(finished?.files.length).toBeGreaterThan(0);
    const after = await scrape();
    expect(after.value(/spreed_bot_recordings_active\{bot="Recorder"\} (\d+)/)).toBe(0);
    expect(after.value(/spreed_bot_recording_bytes_written_total\{bot="Recorder"\} (\d+)/)).toBeGreaterThanOrEqual(before);
  });
});
