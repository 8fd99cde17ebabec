import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeetingsIndex } from '../../src/console/meetings.js';
import { fakeMeeting, finishedFile } from './fixtures.js';

describe('MeetingsIndex', () => {
  it('lists meetings newest first, paged, with participants, size, state and failed segments', async () => {
    const root = await mkdtemp(join(tmpdir(), 'meetings-'));
    await fakeMeeting(root, 'standup', '2026-01-01T09-00-00.000Z', {
      room: 'standup',
      startedAt: Date.UTC(2026, 0, 1, 9),
      stoppedAt: Date.UTC(2026, 0, 1, 9, 10),
      files: [finishedFile('a', 'Alice', 'Alice.webm', Date.UTC(2026, 0, 1, 9), Date.UTC(2026, 0, 1, 9, 10))],
    });
    const failing = await fakeMeeting(root, 'conference_demo', '2026-01-03T09-00-00.000Z', {
      room: 'conference/demo',
      startedAt: Date.UTC(2026, 0, 3, 9),
      stoppedAt: Date.UTC(2026, 0, 3, 9, 1),
      files: [
        finishedFile('a', 'Alice', 'Alice.webm', Date.UTC(2026, 0, 3, 9), Date.UTC(2026, 0, 3, 9, 1)),
        { ...finishedFile('b', 'Bob', 'Bob.webm', Date.UTC(2026, 0, 3, 9), Date.UTC(2026, 0, 3, 9, 1)), state: 'failed', error: 'DISK_FULL: no space left on device' },
      ],
    });
    await writeFile(join(failing, 'mix.webm'), Buffer.alloc(500));
    const running = await fakeMeeting(root, 'conference_demo', '2026-01-04T09-00-00.000Z', { room: 'conference/demo', startedAt: Date.UTC(2026, 0, 4, 9) });
    await fakeMeeting(root, 'conference_demo', '2026-01-02T09-00-00.000Z', { room: 'conference/demo', startedAt: Date.UTC(2026, 0, 2, 9) });
    // Not meetings: a folder without meeting.json, a broken sidecar, a symlinked folder.
    await mkdir(join(root, 'demo-files'), { recursive: true });
    const broken = join(root, 'old', '2025-01-01T00-00-00.000Z');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'meeting.json'), '{"version": 1, "room": ');
    await symlink(failing, join(root, 'conference_demo', 'linked'));

    const index = new MeetingsIndex(root, { recordingDirs: () => new Set([running]) });
    const first = await index.list(1, 3);
    expect(first.total).toBe(5);
    expect(first.meetings.map((m) => m.id)).toEqual([
      'conference_demo/2026-01-04T09-00-00.000Z',
      'conference_demo/2026-01-03T09-00-00.000Z',
      'conference_demo/2026-01-02T09-00-00.000Z',
    ]);
    const [live, failed, unfinished] = first.meetings;
    expect(live!.state).toBe('recording');
    expect(unfinished!.state).toBe('unfinished');
    expect(failed).toMatchObject({
      room: 'conference/demo',
      state: 'finished',
      durationMs: 60_000,
      participants: ['Alice', 'Bob'],
      sizeBytes: 1001 + 1001 + 500,
      mix: 'mix.webm',
      failures: [{ participant: 'Bob', file: 'Bob.webm', error: 'DISK_FULL: no space left on device' }],
    });
    const second = await index.list(2, 3);
    expect(second.meetings.map((m) => [m.id, m.state])).toEqual([
      ['standup/2026-01-01T09-00-00.000Z', 'finished'],
      ['old/2025-01-01T00-00-00.000Z', 'unreadable'],
    ]);
    expect(second.meetings[1]!.error).toMatch(/cannot read .*meeting.json/);
  });

  it('gives a meeting page with file URLs and the timeline, and nothing for names outside the archive', async () => {
    const root = await mkdtemp(join(tmpdir(), 'meetings-'));
    await fakeMeeting(root, 'team room', '2026-01-01T09-00-00.000Z', {
      room: 'team room',
      startedAt: 1000,
      stoppedAt: 5000,
      files: [finishedFile('a', 'Alice Ä', 'Alice Ä.webm', 1000, 5000)],
      events: [{ participantId: 'a', name: 'Alice Ä', time: 1000, event: 'join' }],
      speakerTimeline: [{ participantId: 'a', talking: true, time: 2000 }],
    });
    const index = new MeetingsIndex(root);
    const meeting = await index.get('team room', '2026-01-01T09-00-00.000Z');
    expect(meeting!.files[0]).toMatchObject({ name: 'Alice Ä', url: 'files/team%20room/2026-01-01T09-00-00.000Z/Alice%20%C3%84.webm', sizeBytes: 1001 });
    expect(meeting!.timeline.lanes[0]!.speech).toEqual([{ from: 1000, to: 4000 }]);
    expect(await index.get('..', 'etc')).toBeUndefined();
    expect(await index.get('team room', '..')).toBeUndefined();
    expect(await index.get('team room', 'missing')).toBeUndefined();
  });
});
