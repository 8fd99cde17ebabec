import { open, type FileHandle } from 'node:fs/promises';
import { EBML_ID as ID, readVint } from './ebml.js';

/**
 * Finds where a Matroska file's Info/Duration goes: the 11-byte Void ffmpeg reserves there (or an
 * existing 8-byte float Duration). Returns the byte offset, or undefined if `head` (the first few
 * KiB of the file) does not contain it yet. Pure.
 */
export function findDurationSlot(head: Buffer): number | undefined {
  const walk = (from: number, to: number, inInfo: boolean): number | undefined => {
    for (let at = from; at < to; ) {
      const id = readVint(head, at, true);
      const size = id && readVint(head, at + id.length, false);
      if (!id || !size) return undefined;
      const body = at + id.length + size.length;
      const total = id.length + size.length + size.value;
      if (inInfo && ((id.value === ID.void && total === 11) || (id.value === ID.duration && size.value === 8))) return at;
      if (id.value === ID.segment) return walk(body, head.length, false);
      if (id.value === ID.info) return walk(body, Math.min(head.length, body + size.value), true);
      if (!Number.isFinite(total)) return undefined;
      at += total;
    }
    return undefined;
  };
  return walk(0, head.length, false);
}

/** The 11-byte Matroska Duration element (float64, in TimecodeScale units = ms). Pure. */
export function durationElement(ms: number): Buffer {
  const el = Buffer.alloc(11);
  el.writeUInt16BE(ID.duration, 0);
  el[2] = 0x88;
  el.writeDoubleBE(ms, 3);
  return el;
}

/**
 * Keeps the Duration of a Matroska file that ffmpeg is still writing up to date, so a file left
 * behind by a killed ffmpeg (or node) still reports a duration. ffmpeg reserves the slot and only
 * appends after it; on a clean finish it overwrites the slot with the exact value, so
 * {@link close} must run (and be awaited) before ffmpeg is asked to stop.
 */
export class MatroskaDurationPatcher {
  private handle: FileHandle | undefined;
  private slot: number | undefined;
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(readonly file: string) {}

  /** Writes `ms` as the file's duration (queued; errors ignored: the file may not exist yet). */
  update(ms: number): Promise<void> {
    this.pending = this.pending.then(() => this.write(ms)).catch(() => undefined);
    return this.pending;
  }

  /** Waits for a pending write and closes the file (idempotent). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private async write(ms: number): Promise<void> {
    if (this.closed || !(ms > 0)) return;
    this.handle ??= await open(this.file, 'r+');
    if (this.slot === undefined) {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await this.handle.read(head, 0, head.length, 0);
      this.slot = findDurationSlot(head.subarray(0, bytesRead));
      if (this.slot === undefined) return;
    }
    if (this.closed) return;
    await this.handle.write(durationElement(ms), 0, 11, this.slot);
  }
}
