import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MeetingRecorder, continueSidecar, fileBaseName, readSidecar, type Sidecar } from '../../src/media/index.js';

function sidecar(): Sidecar {
  return {
    version: 1,
    room: 'conference/x',
    startedAt: 1000,
    stoppedAt: 5000,
    files: [
      { participantId: 'A', participantName: 'Alice', file: 'Alice.webm', codecs: ['OPUS'], kinds: ['audio'], segment: 1, startedAt: 1000, stoppedAt: 2000, state: 'finished' },
      { participantId: 'A', participantName: 'Alice', file: 'Alice.2.webm', codecs: ['OPUS'], kinds: ['audio'], segment: 2, startedAt: 2000, state: 'recording' },
      { participantId: 'B', participantName: 'Bob', file: 'Bob.webm', codecs: ['OPUS'], kinds: ['audio'], segment: 1, startedAt: 1000, state: 'recording' },
    ],
    events: [],
    speakerTimeline: [],
  };
}

describe('continueSidecar', () => {
  it('closes the files the lost recorder left open, notes the gap and continues each participant', () => {
    const data = sidecar();
    const resumed = continueSidecar(data, { dir: '/x', gapFrom: 3000, reason: 'worker w1 lost' }, 4000, (file) => file === 'Alice.2.webm');
    expect(resumed.get('A')).toEqual({ baseName: 'Alice', segments: 2 });
    expect(resumed.get('B')).toEqual({ baseName: 'Bob', segments: 1 });
    expect(data.files[1]).toMatchObject({ state: 'interrupted', stoppedAt: 3000 });
    expect(data.files[2]).toMatchObject({ state: 'failed', stoppedAt: 3000 });
    expect(data.gaps).toEqual([{ from: 3000, to: 4000, reason: 'worker w1 lost' }]);
    expect(data.stoppedAt).toBeUndefined();
  });

  it('strips only the segment suffix from file names', () => {
    expect(fileBaseName('Dr. No.webm', 1)).toBe('Dr. No');
    expect(fileBaseName('Dr. No.3.mkv', 3)).toBe('Dr. No');
    expect(fileBaseName('v1.2.ogg', 1)).toBe('v1.2');
  });
});

describe('MeetingRecorder resume', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the existing meeting.json of the directory and appends the gap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resume-'));
    dirs.push(dir);
    await writeFile(join(dir, 'meeting.json'), JSON.stringify(sidecar()));
    await writeFile(join(dir, 'Bob.webm'), 'x');
    const recorder = await MeetingRecorder.create({ room: 'ignored', resume: { dir, gapFrom: 3000 } });
    expect(recorder.dir).toBe(dir);
    await recorder.stop();
    const data = await readSidecar(join(dir, 'meeting.json'));
    expect(data.room).toBe('conference/x');
    expect(data.startedAt).toBe(1000);
    expect(data.files.map((f) => f.state)).toEqual(['finished', 'failed', 'interrupted']);
    expect(data.gaps).toHaveLength(1);
    expect(data.gaps![0]).toMatchObject({ from: 3000, reason: 'recorder changed' });
    expect(data.stoppedAt).toBeGreaterThan(3000);
  });

  it('starts a new sidecar in the directory when the old one is unreadable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resume-'));
    dirs.push(dir);
    await writeFile(join(dir, 'meeting.json'), '{not json');
    const recorder = await MeetingRecorder.create({ room: 'r', resume: { dir, gapFrom: 3000 } });
    await recorder.stop();
    const data = JSON.parse(await readFile(join(dir, 'meeting.json'), 'utf8')) as Sidecar;
    expect(data.room).toBe('r');
    expect(data.files).toEqual([]);
  });
});
