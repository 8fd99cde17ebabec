import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CHUNK_HEADER_SIZE } from './chunk.js';

/** Chunk size the web client uses on Chrome, and ours: ≤ 60,000 bytes fits werift's 65,536-byte messages. */
export const DEFAULT_CHUNK_SIZE = 60_000;
/** Largest payload a chunk message can carry on werift (max message 65,536 minus the header). */
export const MAX_CHUNK_SIZE = 65_536 - CHUNK_HEADER_SIZE;

/**
 * A shared file as advertised in a Chat `Status.FileInfo`. `id` is the token the downloader puts in
 * `_token` of its token Offers; `chunks = ceil(size / chunkSize)`, so a 0-byte file has 0 chunks.
 */
export interface FileInfo {
  id: string;
  chunks: number;
  name: string;
  size: number;
  type: string;
}

const u32 = z.number().int().min(0).max(0xffffffff);

/**
 * Runtime schema for a received FileInfo. Bounds every field; the chunk count must be possible for
 * the size with some chunk size the web client could have used (1..{@link MAX_CHUNK_SIZE}).
 */
export const fileInfoSchema = z
  .object({
    id: z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII'),
    chunks: u32,
    name: z.string().min(1).max(1024),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    type: z.string().max(255).default(''),
  })
  .refine((f) => (f.size === 0 ? f.chunks === 0 : f.chunks >= 1 && f.chunks <= f.size && f.chunks >= Math.ceil(f.size / MAX_CHUNK_SIZE)), {
    message: 'chunks does not fit size',
  });

/** Validates a FileInfo received from a peer; undefined when it is not usable. Never throws. */
export function parseFileInfo(value: unknown): FileInfo | undefined {
  const parsed = fileInfoSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Number of chunks of a file: `ceil(size / chunkSize)`; 0 for an empty file. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Payload length of chunk `index`: `chunkSize` except for the last, which carries the remainder. */
export function chunkLength(index: number, size: number, chunkSize: number): number {
  return Math.max(0, Math.min(chunkSize, size - index * chunkSize));
}

/** A FileInfo token: 96 lowercase hex characters, as the web client makes them. */
export const FILE_TOKEN_PATTERN = /^[0-9a-f]{96}$/;

const tokenKey = randomBytes(48);
let tokenCounter = 0;

/**
 * Makes a new FileInfo token like the web client: HMAC-SHA-384 of `file_<x>_<ownId>_<n>` under a
 * random per-process key (n counts up per process), as 96 lowercase hex characters. Unguessable,
 * so whoever knows it was told about the file.
 * @param ownId Our session id.
 * @param x Free part of the input. @defaultValue `'null'` (what the web client puts there)
 */
export function mintFileToken(ownId: string, x = 'null'): string {
  return createHmac('sha384', tokenKey).update(`file_${x}_${ownId}_${tokenCounter++}`).digest('hex');
}
