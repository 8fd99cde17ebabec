import { describe, expect, it } from 'vitest';
import { Bot, type BotMetricsReport, type Plugin } from '../../src/index.js';
import { BotMetrics, MAX_PARTICIPANT_LABELS, MAX_PARTICIPANT_LABEL_LENGTH } from '../../src/service/index.js';

/** A bot (never connected) whose only plugin reports `report()` for /metrics. */
async function reportingBot(name: string, report: () => BotMetricsReport): Promise<Bot> {
  const bot = new Bot({ server: 'ws://127.0.0.1:1/ws', room: 'metrics', name });
  const reporter: Plugin = { name: 'reporter', setup: (ctx) => ctx.onMetrics(report) };
  await bot.use(reporter);
  return bot;
}

const labelsOf = (text: string, metric: string) =>
  [...text.matchAll(new RegExp(`^${metric}\\{bot="[^"]*",participant="([^"]*)",kind="audio"\\} (\\d+)$`, 'gm'))].map((m) => ({ participant: m[1]!, value: Number(m[2]) }));

describe('BotMetrics', () => {
  it('labels RTP streams by display name, truncated, with at most MAX_PARTICIPANT_LABELS names per bot and the rest as other', async () => {
    const long = 'L'.repeat(100);
    const streams = [long, ...Array.from({ length: 24 }, (_, i) => `Person ${i}`)].map((participant) => ({ participant, kind: 'audio', packetsReceived: 10, packetsLost: 0 }));
    const metrics = new BotMetrics();
    metrics.track(await reportingBot('Rec', () => ({ rtpStreams: streams })));
    const rows = labelsOf(await metrics.text(), 'spreed_bot_rtp_packets_received');
    expect(rows).toHaveLength(MAX_PARTICIPANT_LABELS + 1);
    expect(rows.find((r) => r.participant === 'L'.repeat(MAX_PARTICIPANT_LABEL_LENGTH))).toEqual({ participant: 'L'.repeat(MAX_PARTICIPANT_LABEL_LENGTH), value: 10 });
    // 25 names: the first 20 are labels, the other 5 are summed into "other".
    expect(rows.find((r) => r.participant === 'other')).toEqual({ participant: 'other', value: 50 });
    // A name that got a label keeps it; a name seen later stays "other" (bounded over the process lifetime).
    const again = labelsOf(await metrics.text(), 'spreed_bot_rtp_packets_received');
    expect(again.map((r) => r.participant).sort()).toEqual(rows.map((r) => r.participant).sort());
  });

  it('recording bytes written is a _total counter that carries over when a bot of the same name is replaced', async () => {
    const metrics = new BotMetrics();
    let bytes = 100;
    const first = await reportingBot('Rec', () => ({ recordingBytesWritten: bytes, recordingsActive: 1 }));
    metrics.track(first);
    const value = async () => Number(/^spreed_bot_recording_bytes_written_total\{bot="Rec"\} (\d+)$/m.exec(await metrics.text())?.[1]);
    expect(await metrics.text()).toContain('# TYPE spreed_bot_recording_bytes_written_total counter');
    expect(await value()).toBe(100);
    bytes = 250;
    await new Promise((r) => setTimeout(r, 150)); // scrapes are cached for 100 ms
    expect(await value()).toBe(250);
    metrics.untrack(first);
    metrics.track(await reportingBot('Rec', () => ({ recordingBytesWritten: 40 })));
    await new Promise((r) => setTimeout(r, 150));
    expect(await value()).toBe(290);
  });
});
