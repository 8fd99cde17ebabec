import { open } from 'node:fs/promises';
import { EBML_ID, readVint } from './ebml.js';

/** What a recording on disk holds, judged from its bytes (no ffprobe needed). */
export interface RecordedFileCheck {
  /** File size; 0 when missing. */
  bytes: number;
  /** True when the file has at least one media packet after its headers (a player can play it). */
  playable: boolean;
}

/** How much of a file is read: the first media packet follows the headers within a few KiB. */
const HEAD_BYTES = 1024 * 1024;

/**
 * True when a Matroska/WebM head (the first bytes of the file) contains a Cluster with a block in
 * it. Sizes may be "unknown" (a live or killed ffmpeg), so Segment and Cluster are entered, not
 * skipped. Pure.
 */
export function matroskaHasMedia(head: Buffer): boolean {
  let inCluster = false;
  for (let at = 0; at < head.length; ) {
    const id = readVint(head, at, true);
    const size = id && readVint(head, at + id.length, false);
    if (!id || !size) return false;
    const body = at + id.length + size.length;
    if (id.value === EBML_ID.segment) {
      at = body;
      continue;
    }
    if (id.value === EBML_ID.cluster) {
      inCluster = true;
      at = body;
      continue;
    }
    if (inCluster && (id.value === EBML_ID.simpleBlock || id.value === EBML_ID.blockGroup)) return size.value > 0;
    if (!Number.isFinite(size.value)) return false;
    at = body + size.value;
  }
  return false;
}

/**
 * True when an Ogg head has a page with a positive granule position, i.e. audio after the two
 * header pages (OpusHead, OpusTags have granule 0). Pure.
 */
export function oggHasMedia(head: Buffer): boolean {
  for (let at = 0; at + 27 <= head.length; ) {
    if (head.toString('latin1', at, at + 4) !== 'OggS') return false;
    const granule = head.readBigInt64LE(at + 6);
    const segments = head[at + 26]!;
    if (at + 27 + segments > head.length) return false;
    let body = 0;
    for (let k = 0; k < segments; k++) body += head[at + 27 + k]!;
    if (granule > 0n && body > 0) return true;
    at += 27 + segments + body;
  }
  return false;
}

/**
 * Looks at a recording ffmpeg wrote (`.webm`, `.mkv` or `.ogg`): how big it is and whether it holds
 * media, so an ffmpeg that died (or was killed by a signal meant for someone else) is judged by
 * what it left behind. Never rejects.
 */
export async function checkRecordedFile(file: string): Promise<RecordedFileCheck> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return { bytes: 0, playable: false };
  }
  try {
    const bytes = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(bytes, HEAD_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const data = head.subarray(0, bytesRead);
    const playable = data.subarray(0, 4).toString('latin1') === 'OggS' ? oggHasMedia(data) : matroskaHasMedia(data);
    return { bytes, playable };
  } catch {
    return { bytes: 0, playable: false };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
