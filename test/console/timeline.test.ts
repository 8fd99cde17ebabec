import { describe, expect, it } from 'vitest';
import { meetingTimeline } from '../../src/console/timeline.js';
import type { Sidecar } from '../../src/media/index.js';

const file = (participantId: string, name: string, segment: number, from: number, to: number | undefined, state: 'finished' | 'failed' | 'recording') => ({
  participantId,
  participantName: name,
  file: `${name}${segment > 1 ? `.${segment}` : ''}.webm`,
  codecs: ['audio/opus'],
  kinds: ['audio' as const],
  firstSampleTime: from,
  segment,
  startedAt: from,
  ...(to !== undefined ? { stoppedAt: to } : {}),
  state,
});

const sidecar: Sidecar = {
  version: 1,
  room: 'r',
  startedAt: 1000,
  stoppedAt: 11_000,
  files: [file('b', 'Bob', 1, 3000, 5000, 'finished'), file('b', 'Bob', 2, 7000, 10_000, 'failed'), file('a', 'Alice', 1, 2000, 11_000, 'finished')],
  events: [
    { participantId: 'a', name: 'Alice', time: 1500, event: 'join' },
    { participantId: 'b', name: 'Bob', time: 2500, event: 'join' },
    { participantId: 'b', time: 5000, event: 'leave' },
    { participantId: 'b', time: 6500, event: 'join' },
  ],
  speakerTimeline: [
    { participantId: 'a', talking: true, time: 2000 },
    { participantId: 'a', talking: false, time: 4000 },
    { participantId: 'b', talking: true, time: 8000 },
  ],
  gaps: [{ from: 5500, to: 6000, reason: 'worker handed over' }],
};

describe('meetingTimeline', () => {
  it('draws one lane per participant, in order of appearance, with presence, segments (and their gap) and speech', () => {
    const t = meetingTimeline(sidecar);
    expect(t.durationMs).toBe(10_000);
    expect(t.lanes.map((l) => l.name)).toEqual(['Alice', 'Bob']);
    const [alice, bob] = t.lanes;
    expect(alice!.presence).toEqual([{ from: 500, to: 10_000 }]); // never left: until the end
    expect(alice!.speech).toEqual([{ from: 1000, to: 3000 }]);
    expect(bob!.presence).toEqual([
      { from: 1500, to: 4000 },
      { from: 5500, to: 10_000 },
    ]);
    expect(bob!.segments.map((s) => [s.from, s.to, s.file, s.state])).toEqual([
      [2000, 4000, 'Bob.webm', 'finished'],
      [6000, 9000, 'Bob.2.webm', 'failed'],
    ]);
    expect(bob!.speech).toEqual([{ from: 7000, to: 10_000 }]); // talking until the meeting ended
    expect(t.gaps).toEqual([{ from: 4500, to: 5000, reason: 'worker handed over' }]);
  });

  it('runs a recording still in progress up to now', () => {
    const { stoppedAt: _, ...running } = sidecar;
    expect(meetingTimeline(running, 20_000).durationMs).toBe(19_000);
  });
});
