import { meetingEnd, participantNames, speechIntervals, type Sidecar } from '../media/index.js';

/** A stretch of a meeting, in ms from its start. */
export interface Span {
  from: number;
  to: number;
}

/** One participant's lane on the speaker timeline. */
export interface Lane {
  participantId: string;
  name: string;
  /** In the meeting: from each join to its leave. */
  presence: Span[];
  /** Recorded files (a gap between two is a rejoin, a restart or a failure). */
  segments: (Span & { file: string; state: string })[];
  /** Talking, from the Talking documents. */
  speech: Span[];
}

/** The speaker timeline of a meeting: one lane per participant over the meeting's time axis. */
export interface MeetingTimeline {
  durationMs: number;
  lanes: Lane[];
  /** Stretches nobody recorded (fleet hand-over). */
  gaps: (Span & { reason: string })[];
}

/**
 * Lanes for a meeting's speaker timeline from its sidecar: presence from joins/leaves, file
 * segments, speech from Talking changes. Lanes are ordered by first appearance. `now` ends what is
 * still open in a running recording. Pure.
 */
export function meetingTimeline(sidecar: Sidecar, now?: number): MeetingTimeline {
  const t0 = sidecar.startedAt;
  const end = sidecar.stoppedAt ?? Math.max(meetingEnd(sidecar), now ?? 0);
  const rel = (t: number) => Math.max(0, Math.min(end, t) - t0);
  const span = (from: number, to: number): Span => ({ from: rel(from), to: rel(to) });
  const names = participantNames(sidecar);
  const lanes = new Map<string, Lane>();
  const firstSeen = new Map<string, number>();
  const lane = (id: string, time: number) => {
    firstSeen.set(id, Math.min(firstSeen.get(id) ?? Infinity, time));
    let l = lanes.get(id);
    if (!l) lanes.set(id, (l = { participantId: id, name: names.get(id) ?? id, presence: [], segments: [], speech: [] }));
    return l;
  };
  const joined = new Map<string, number>();
  for (const e of [...sidecar.events].sort((a, b) => a.time - b.time)) {
    const l = lane(e.participantId, e.time);
    if (e.event === 'join') {
      if (!joined.has(e.participantId)) joined.set(e.participantId, e.time);
    } else {
      l.presence.push(span(joined.get(e.participantId) ?? t0, e.time));
      joined.delete(e.participantId);
    }
  }
  for (const [id, from] of joined) lanes.get(id)!.presence.push(span(from, end));
  for (const f of sidecar.files) {
    const from = f.firstSampleTime ?? f.startedAt;
    lane(f.participantId, from).segments.push({ ...span(from, f.stoppedAt ?? end), file: f.file, state: f.state });
  }
  for (const s of speechIntervals(sidecar, end)) lane(s.participantId, s.from).speech.push(span(s.from, s.to));
  const ordered = [...lanes.values()].sort((a, b) => firstSeen.get(a.participantId)! - firstSeen.get(b.participantId)!);
  return {
    durationMs: end - t0,
    lanes: ordered,
    gaps: (sidecar.gaps ?? []).map((g) => ({ ...span(g.from, g.to), reason: g.reason })),
  };
}
