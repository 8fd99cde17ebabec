import { readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { checkRecordedFile, type RecordedFileCheck } from './recorded-file.js';
import { readSidecar, writeFileAtomic, type Sidecar } from './sidecar.js';
import { formatSidecar } from './sidecar-format.js';

/** What a file left `recording` turned out to be. */
export interface FileOnDisk extends RecordedFileCheck {
  /** Last modification (Unix ms): when ffmpeg last wrote. */
  mtimeMs: number;
}

/** True when a sidecar still says it is being recorded (a file `recording`, or no `stoppedAt`). Pure. */
export function needsRepair(data: Sidecar): boolean {
  return data.stoppedAt === undefined || data.files.some((f) => f.state === 'recording');
}

/**
 * Closes a sidecar whose recorder was killed (SIGKILL, power loss) so it reads like a finished
 * meeting: each file left `recording` becomes `interrupted` (it plays up to its last flushed
 * second) or `failed` (nothing playable), with `stoppedAt` = the file's last write; the meeting's
 * `stoppedAt` is the latest time known; `repairedAt` says it was repaired. Mutates `data`. Pure
 * otherwise.
 */
export function repairSidecarData(data: Sidecar, files: ReadonlyMap<string, FileOnDisk>, now: number): void {
  for (const file of data.files) {
    if (file.state !== 'recording') continue;
    const disk = files.get(file.file);
    file.stoppedAt ??= disk && disk.mtimeMs > 0 ? Math.max(file.startedAt, disk.mtimeMs) : file.startedAt;
    if (disk?.playable) {
      Object.assign(file, { state: 'interrupted', error: 'the recorder was killed while writing this file; it plays up to its last flushed second' });
    } else {
      Object.assign(file, { state: 'failed', error: 'the recorder was killed before this file held any media' });
    }
  }
  if (data.stoppedAt === undefined) {
    const times = [
      data.startedAt,
      ...data.events.map((e) => e.time),
      ...data.speakerTimeline.map((t) => t.time),
      ...data.files.flatMap((f) => [f.startedAt, f.stoppedAt ?? f.startedAt]),
    ];
    data.stoppedAt = Math.max(...times);
  }
  data.repairedAt = now;
}

/** Whether the process that writes `data` may still be running (then it must not be repaired). */
function writerMayBeAlive(data: Sidecar, mtimeMs: number, now: number): boolean {
  const writer = data.writer;
  if (!writer) return now - mtimeMs < STALE_WITHOUT_WRITER_MS;
  if (writer.host !== hostname()) return true; // another machine's recorder (shared storage): its business
  if (writer.pid === process.pid) return true;
  try {
    process.kill(writer.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** A sidecar that names no writer (older versions) is taken as abandoned once it has not changed this long. */
const STALE_WITHOUT_WRITER_MS = 10 * 60_000;

/** Result of {@link repairSidecar}. */
export type SidecarRepairResult =
  | { status: 'ok' }
  | { status: 'repaired'; files: { file: string; state: string }[] }
  | { status: 'live'; pid?: number };

/**
 * Repairs `<dir>/meeting.json` if a killed recorder left it `recording` (see
 * {@link repairSidecarData}); a sidecar whose writer is still running is left alone (`live`).
 * Rejects like `readSidecar` for a missing or invalid file.
 */
export async function repairSidecar(
  path: string,
  now = Date.now(),
  checkFile: (path: string) => Promise<RecordedFileCheck> = checkRecordedFile,
): Promise<SidecarRepairResult> {
  const data = await readSidecar(path);
  if (!needsRepair(data)) return { status: 'ok' };
  const mtimeMs = await stat(path).then((s) => s.mtimeMs, () => 0);
  if (writerMayBeAlive(data, mtimeMs, now)) return { status: 'live', pid: data.writer?.pid };
  const dir = join(path, '..');
  const checks = new Map<string, FileOnDisk>();
  for (const file of data.files) {
    if (file.state !== 'recording') continue;
    const at = join(dir, file.file);
    const [check, mtime] = await Promise.all([checkFile(at), stat(at).then((s) => s.mtimeMs, () => 0)]);
    checks.set(file.file, { ...check, mtimeMs: mtime });
  }
  const repaired = data.files.filter((f) => f.state === 'recording').map((f) => f.file);
  repairSidecarData(data, checks, now);
  // Checking the files takes a while: a recorder may have taken the meeting over meanwhile (a fleet
  // worker continuing it after a hand-over). Its sidecar wins; ours would close a live meeting.
  const current = await stat(path).then((s) => s.mtimeMs, () => -1);
  if (current !== mtimeMs) return { status: 'live' };
  await writeFileAtomic(path, formatSidecar(data));
  return { status: 'repaired', files: data.files.filter((f) => repaired.includes(f.file)).map((f) => ({ file: f.file, state: f.state })) };
}

/**
 * Repairs every `<rootDir>/<room>/<meeting>/meeting.json` a killed recorder left behind. Resolves
 * with the repaired paths; unreadable sidecars are skipped. Never rejects.
 */
export async function repairSidecars(rootDir: string, now = Date.now()): Promise<string[]> {
  const repaired: string[] = [];
  const subdirs = async (dir: string) =>
    (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  for (const room of await subdirs(rootDir)) {
    for (const meeting of await subdirs(room)) {
      const path = join(meeting, 'meeting.json');
      const result = await repairSidecar(path, now).catch(() => undefined);
      if (result?.status === 'repaired') repaired.push(path);
    }
  }
  return repaired;
}
