import { join } from 'node:path';
import { writeFileAtomic, type Sidecar } from './sidecar.js';

/** One stretch of time in which one participant talked (Unix ms). */
export interface SpeechInterval {
  participantId: string;
  from: number;
  to: number;
}

/** One WebVTT cue: who talks from `startMs` to `endMs` (ms from the media's start). */
export interface SpeakerCue {
  startMs: number;
  endMs: number;
  /** Display names, in the order they started talking. */
  speakers: string[];
}

/**
 * Display names of a meeting's participants: the latest name the sidecar knows from joins,
 * files and the speaker timeline, else a short id. Pure.
 */
export function participantNames(sidecar: Sidecar): Map<string, string> {
  const names = new Map<string, string>();
  const note = (id: string, name: unknown) => {
    if (typeof name === 'string' && name.trim() !== '') names.set(id, name.trim());
  };
  for (const e of sidecar.events) note(e.participantId, e.name);
  for (const f of sidecar.files) note(f.participantId, f.participantName);
  for (const t of sidecar.speakerTimeline) note(t.participantId, (t as { name?: unknown }).name);
  const all = new Set([...sidecar.events, ...sidecar.files, ...sidecar.speakerTimeline].map((x) => x.participantId));
  for (const id of all) if (!names.has(id)) names.set(id, id.slice(0, 8) || 'participant');
  return names;
}

/** End of a meeting: when it stopped, else the latest time anything in the sidecar mentions. Pure. */
export function meetingEnd(sidecar: Sidecar): number {
  if (sidecar.stoppedAt !== undefined) return sidecar.stoppedAt;
  const times = [
    sidecar.startedAt,
    ...sidecar.events.map((e) => e.time),
    ...sidecar.speakerTimeline.map((t) => t.time),
    ...sidecar.files.flatMap((f) => [f.startedAt, f.stoppedAt ?? f.startedAt]),
  ];
  return Math.max(...times);
}

/**
 * Who talked when, from the sidecar's `Talking` changes: a participant's speech ends when they
 * say they stopped, when they leave, or when the meeting ends. Sorted by start. Pure.
 */
export function speechIntervals(sidecar: Sidecar, end = meetingEnd(sidecar)): SpeechInterval[] {
  const changes = [
    ...sidecar.speakerTimeline.map((t) => ({ id: t.participantId, time: t.time, talking: t.talking })),
    ...sidecar.events.filter((e) => e.event === 'leave').map((e) => ({ id: e.participantId, time: e.time, talking: false })),
  ].sort((a, b) => a.time - b.time);
  const open = new Map<string, number>();
  const out: SpeechInterval[] = [];
  const close = (id: string, to: number) => {
    const from = open.get(id);
    open.delete(id);
    if (from !== undefined && to > from) out.push({ participantId: id, from, to });
  };
  for (const c of changes) {
    if (c.talking && !open.has(c.id)) open.set(c.id, c.time);
    else if (!c.talking) close(c.id, c.time);
  }
  for (const id of [...open.keys()]) close(id, end);
  return out.sort((a, b) => a.from - b.from);
}

/**
 * Caption cues naming who speaks, relative to `originMs` (the mix-down's time 0: the earliest
 * first sample): a new cue whenever the set of speakers changes; silence has no cue. Pure.
 */
export function speakerCues(sidecar: Sidecar, originMs: number, end = meetingEnd(sidecar)): SpeakerCue[] {
  const names = participantNames(sidecar);
  const points = speechIntervals(sidecar, end).flatMap((s) => [
    { time: s.from, id: s.participantId, on: true },
    { time: s.to, id: s.participantId, on: false },
  ]);
  points.sort((a, b) => a.time - b.time || Number(a.on) - Number(b.on));
  const talking: string[] = [];
  const cues: SpeakerCue[] = [];
  let since = 0;
  for (let i = 0; i < points.length; ) {
    const time = points[i]!.time;
    const before = talking.map((id) => names.get(id)!);
    for (; i < points.length && points[i]!.time === time; i++) {
      const p = points[i]!;
      const at = talking.indexOf(p.id);
      if (p.on && at < 0) talking.push(p.id);
      if (!p.on && at >= 0) talking.splice(at, 1);
    }
    const after = talking.map((id) => names.get(id)!);
    if (before.join('\n') === after.join('\n')) continue;
    const startMs = Math.max(0, since - originMs);
    const endMs = Math.max(0, time - originMs);
    if (before.length > 0 && endMs > startMs) cues.push({ startMs, endMs, speakers: before });
    since = time;
  }
  return cues;
}

/** `HH:MM:SS.mmm`, the WebVTT timestamp of `ms`. Pure. */
export function vttTimestamp(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(total / 3_600_000))}:${pad(Math.floor(total / 60_000) % 60)}:${pad(Math.floor(total / 1000) % 60)}.${pad(total % 1000, 3)}`;
}

/** Cue text is markup in WebVTT: names are escaped and kept on one line. Pure. */
function cueText(speakers: readonly string[]): string {
  return speakers
    .join(', ')
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A WebVTT document of `cues`. Pure. */
export function formatVtt(cues: readonly SpeakerCue[]): string {
  const body = cues.map((c, i) => `${i + 1}\n${vttTimestamp(c.startMs)} --> ${vttTimestamp(c.endMs)}\n${cueText(c.speakers)}\n`);
  return ['WEBVTT - who speaks, from meeting.json\n', ...body].join('\n');
}

/**
 * Writes `<dir>/speakers.vtt`: captions naming who speaks, timed from `originMs` (the mix-down's
 * time 0). Resolves with its path and how many cues it has.
 */
export async function writeSpeakerCaptions(dir: string, sidecar: Sidecar, originMs: number): Promise<{ path: string; cues: number }> {
  const cues = speakerCues(sidecar, originMs);
  const path = join(dir, 'speakers.vtt');
  await writeFileAtomic(path, formatVtt(cues));
  return { path, cues: cues.length };
}
