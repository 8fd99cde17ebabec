import { mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSidecar, SIDECAR_TIME_UNIT } from '../../src/media/sidecar-format.js';
import { needsRepair, repairSidecar, repairSidecarData, type FileOnDisk } from '../../src/media/sidecar-repair.js';
import { readSidecar, SidecarWriter, type Sidecar } from '../../src/media/sidecar.js';
import { matroskaHasMedia, oggHasMedia } from '../../src/media/recorded-file.js';

const t0 = Date.UTC(2026, 10, 25, 18, 2, 39, 886);

function killedMeeting(): Sidecar {
  return {
    version: 1,
    room: 'conference/demo',
    startedAt: t0,
    writer: { pid: 999_999_999, host: hostname() },
    files: [
      { participantId: 'a'.repeat(150), participantName: 'Alice', file: 'Alice.webm', codecs: ['audio/OPUS', 'video/VP8'], kinds: ['audio', 'video'], segment: 1, startedAt: t0 + 1000, state: 'recording' },
      { participantId: 'b'.repeat(150), participantName: 'Bob', file: 'Bob.webm', codecs: ['audio/OPUS'], kinds: ['audio'], segment: 1, startedAt: t0 + 1200, state: 'recording' },
    ],
    events: [{ time: t0 + 500, event: 'join', name: 'Alice', participantId: 'a'.repeat(150) }],
    speakerTimeline: [{ time: t0 + 3000, talking: true, name: 'Alice', participantId: 'a'.repeat(150) }],
  };
}

describe('meeting.json for people', () => {
  it('says the unit and writes an ISO twin beside every epoch-ms time; reading drops the twins', async () => {
    const text = formatSidecar(killedMeeting());
    const json = JSON.parse(text) as Record<string, unknown> & { files: Record<string, unknown>[]; speakerTimeline: Record<string, unknown>[]; events: Record<string, unknown>[] };
    expect(Object.keys(json).slice(0, 2)).toEqual(['version', 'timeUnit']);
    expect(json.timeUnit).toBe(SIDECAR_TIME_UNIT);
    expect(json.timeUnit).toMatch(/milliseconds/);
    expect(json.startedAtIso).toBe('2026-11-25T18:02:39.886Z');
    expect(json.files[0]!.startedAtIso).toBe('2026-11-25T18:02:40.886Z');
    expect(json.speakerTimeline[0]).toEqual({ time: t0 + 3000, timeIso: '2026-11-25T18:02:42.886Z', talking: true, name: 'Alice', participantId: 'a'.repeat(150) });
    expect(json.events[0]!.timeIso).toBe('2026-11-25T18:02:40.386Z');
    // Formatting what was read back gives the same text (twins are derived, never stale).
    const dir = await mkdtemp(join(tmpdir(), 'readable-'));
    await writeFile(join(dir, 'meeting.json'), text);
    const read = await readSidecar(join(dir, 'meeting.json'));
    expect(read).not.toHaveProperty('startedAtIso');
    expect(formatSidecar(read)).toBe(text);
  });

  it('SidecarWriter writes the readable form and names this process as the writer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'readable-'));
    const writer = new SidecarWriter(join(dir, 'meeting.json'), 'r', t0, 10);
    writer.update((d) => d.speakerTimeline.push({ time: t0 + 1, talking: true, name: 'Bob', participantId: 'b' }));
    await writer.flush();
    const json = JSON.parse(await readFile(writer.path, 'utf8')) as { writer: unknown; speakerTimeline: { name: string; timeIso: string }[] };
    expect(json.writer).toEqual({ pid: process.pid, host: hostname() });
    expect(json.speakerTimeline[0]).toMatchObject({ name: 'Bob', timeIso: '2026-11-25T18:02:39.887Z' });
  });
});

describe('repairing a sidecar a killed recorder left recording', () => {
  it('judges each file by what is on disk and closes the meeting (pure)', () => {
    const data = killedMeeting();
    expect(needsRepair(data)).toBe(true);
    const disk = new Map<string, FileOnDisk>([
      ['Alice.webm', { bytes: 50_000, playable: true, mtimeMs: t0 + 9000 }],
      ['Bob.webm', { bytes: 300, playable: false, mtimeMs: t0 + 1300 }],
    ]);
    repairSidecarData(data, disk, t0 + 60_000);
    expect(data.files.map((f) => [f.file, f.state, f.stoppedAt])).toEqual([
      ['Alice.webm', 'interrupted', t0 + 9000],
      ['Bob.webm', 'failed', t0 + 1300],
    ]);
    expect(data.files[0]!.error).toMatch(/killed/);
    expect(data.stoppedAt).toBe(t0 + 9000);
    expect(data.repairedAt).toBe(t0 + 60_000);
    expect(needsRepair(data)).toBe(false);
  });

  it('leaves a sidecar alone while its writer runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repair-'));
    const path = join(dir, 'meeting.json');
    await writeFile(path, formatSidecar({ ...killedMeeting(), writer: { pid: process.pid, host: hostname() } }));
    expect(await repairSidecar(path)).toEqual({ status: 'live', pid: process.pid });
    // Without a writer (older versions) only a sidecar unchanged for 10 minutes counts as abandoned.
    const { writer: _, ...old } = killedMeeting();
    await writeFile(path, formatSidecar(old));
    expect((await repairSidecar(path)).status).toBe('live');
    await utimes(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    expect((await repairSidecar(path)).status).toBe('repaired');
    expect((await readSidecar(path)).files.map((f) => f.state)).toEqual(['failed', 'failed']); // no files on disk
  });

  it('leaves a sidecar alone when a recorder took the meeting over while its files were checked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repair-'));
    const path = join(dir, 'meeting.json');
    const dead = { pid: 2 ** 22 + 7, host: hostname() }; // above pid_max: never a running process
    await writeFile(path, formatSidecar({ ...killedMeeting(), writer: dead }));
    const continued = formatSidecar({ ...killedMeeting(), writer: { pid: process.pid, host: hostname() } });
    // A fleet worker continues the meeting while the repair probes the files the dead recorder left.
    const result = await repairSidecar(path, Date.now(), async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // a distinct mtime on coarse clocks
      await writeFile(path, continued);
      return { bytes: 0, playable: false };
    });
    expect(result.status).toBe('live');
    expect(await readFile(path, 'utf8')).toBe(continued);
  });
});

describe('what a recording holds, from its bytes', () => {
  it('Ogg: media only after a page with a granule position', () => {
    const page = (granule: bigint, body: number) => {
      const header = Buffer.alloc(28);
      header.write('OggS', 0, 'latin1');
      header.writeBigInt64LE(granule, 6);
      header[26] = 1;
      header[27] = body;
      return Buffer.concat([header, Buffer.alloc(body)]);
    };
    expect(oggHasMedia(Buffer.concat([page(0n, 19), page(0n, 30)]))).toBe(false);
    expect(oggHasMedia(Buffer.concat([page(0n, 19), page(0n, 30), page(960n, 100)]))).toBe(true);
    expect(oggHasMedia(Buffer.from('not ogg at all, no'))).toBe(false);
  });

  it('Matroska: media only once a cluster holds a block (unknown sizes as a killed ffmpeg leaves them)', () => {
    const el = (id: number[], body: Buffer, unknownSize = false) =>
      Buffer.concat([Buffer.from(id), unknownSize ? Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) : Buffer.from([0x80 | body.length]), body]);
    const ebml = el([0x1a, 0x45, 0xdf, 0xa3], Buffer.alloc(4));
    const info = el([0x15, 0x49, 0xa9, 0x66], Buffer.alloc(10));
    const block = el([0xa3], Buffer.alloc(20));
    const timecode = el([0xe7], Buffer.from([0]));
    const header = Buffer.concat([ebml, el([0x18, 0x53, 0x80, 0x67], info, true)]);
    expect(matroskaHasMedia(header)).toBe(false);
    const emptyCluster = el([0x1f, 0x43, 0xb6, 0x75], timecode, true);
    expect(matroskaHasMedia(Buffer.concat([header, emptyCluster]))).toBe(false);
    expect(matroskaHasMedia(Buffer.concat([header, el([0x1f, 0x43, 0xb6, 0x75], Buffer.concat([timecode, block]), true)]))).toBe(true);
  });
});
