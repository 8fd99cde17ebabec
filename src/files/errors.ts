import { CodedError } from '../util/errors.js';

/** Why a binary chunk was rejected by {@link decodeChunk}. */
export type ChunkErrorCode = 'chunk_truncated' | 'chunk_version' | 'chunk_crc';

/** Why a text control message was rejected by {@link parseControl}. */
export type ControlErrorCode = 'control_too_large' | 'control_invalid_json' | 'control_not_object' | 'control_unknown_mode' | 'control_bad_index';

/** Why sharing a path failed. */
export type ShareErrorCode = 'share_not_file' | 'share_outside_root' | 'share_io';

/** Why a download failed. */
export type FetchErrorCode =
  | 'fetch_cancelled'
  | 'fetch_bad_file_info'
  | 'fetch_protocol'
  | 'fetch_too_many_retries'
  | 'fetch_connect_failed'
  | 'fetch_size_mismatch'
  | 'fetch_io';

/** Base class of every error of the files layer: a stable `code` plus the underlying `cause`. */
export class FilesError<C extends string = string> extends CodedError<C> {
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = new.target.name;
  }
}

/** A received binary chunk is not a valid version-0 chunk. */
export class ChunkDecodeError extends FilesError<ChunkErrorCode> {}

/** A received control message is not `{"m":"r","i":N}` or `{"m":"bye"}`. */
export class ControlParseError extends FilesError<ControlErrorCode> {}

/** A path could not be shared. */
export class FileShareError extends FilesError<ShareErrorCode> {}

/** A download failed or was cancelled. */
export class FileFetchError extends FilesError<FetchErrorCode> {}
