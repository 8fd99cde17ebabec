import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSidecar, SidecarWriter, sidecarSchema, writeFileAtomic } from '../../src/media/sidecar.js';

describe('sidecar', () => {
  it('writes atomically and leaves no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidecar-'));
    const path = join(dir, 'meeting.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['meeting.json']);
  });

  it('debounces updates into one valid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidecar-'));
    const writer = new SidecarWriter(join(dir, 'rec', 'meeting.json'), 'room1', 1000, 50);
    writer.update((d) => d.events.push({ participantId: 'a', name: 'Alice', time: 1001, event: 'join' }));
    writer.update((d) => d.speakerTimeline.push({ participantId: 'a', talking: true, time: 1002 }));
    writer.update((d) =>
      d.files.push({ participantId: 'a', file: 'Alice.webm', codecs: ['audio/opus'], kinds: ['audio'], segment: 1, startedAt: 1001, state: 'recording' }),
    );
    await writer.flush();
    const data = await readSidecar(writer.path);
    expect(data.room).toBe('room1');
    expect(data.events).toHaveLength(1);
    expect(data.speakerTimeline[0]!.talking).toBe(true);
    expect(data.files[0]!.file).toBe('Alice.webm');
    expect(sidecarSchema.safeParse(data).success).toBe(true);
  });

  it('rejects files that are not sidecars with INVALID_SIDECAR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidecar-'));
    await writeFile(join(dir, 'x.json'), JSON.stringify({ version: 1, room: 3 }));
    await expect(readSidecar(join(dir, 'x.json'))).rejects.toMatchObject({ code: 'INVALID_SIDECAR' });
    await expect(readSidecar(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'INVALID_SIDECAR' });
  });
});
