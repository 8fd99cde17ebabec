import { CodedError } from '../util/errors.js';

/** What went wrong in the media layer. */
export type MediaErrorCode =
  | 'FFMPEG_NOT_FOUND'
  | 'FFMPEG_SPAWN_FAILED'
  | 'FFMPEG_MISSING_FEATURE'
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

/** ffmpeg output lines that say what went wrong (the rest of its stderr is context). */
const TELLING_LINE = /error|unrecognized|invalid|not found|no such|denied|refused|no space|not supported|failed|unable|cannot/i;

/**
 * One readable line for an error message that may carry ffmpeg's last output on further lines:
 * the first line (without a trailing "last output:") and the first telling ffmpeg line, e.g.
 * `ffmpeg exited with code 1: Unrecognized option 'stats_period'.` Pure.
 */
export function summarizeError(message: string): string {
  const [head = '', ...rest] = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = head.replace(/[;:,]?\s*last output:?\s*$/i, '');
  const telling = rest.find((l) => TELLING_LINE.test(l)) ?? rest.at(-1);
  return telling && !first.includes(telling) ? `${first}: ${telling}` : first;
}
