import { CodedError } from '../util/errors.js';

/** What went wrong in the media layer. */
export type MediaErrorCode =
  | 'FFMPEG_NOT_FOUND'
  | 'FFMPEG_SPAWN_FAILED'
  | 'FFMPEG_EXIT'
  | 'FFMPEG_CRASHED'
  | 'DISK_FULL'
  | 'FEED_LISTEN_FAILED'
  | 'OUTPUT_NOT_WRITABLE'
  | 'NO_STREAMS'
  | 'INVALID_SIDECAR'
  | 'UNSUPPORTED_CODEC';

/**
 * Error of the media layer. Reported on observables and promises, never thrown into a subscriber.
 * `code` tells callers what happened; the message says what to do.
 */
export class MediaError extends CodedError<MediaErrorCode> {
  override readonly name = 'MediaError';
}
