import { MediaError } from './errors.js';

/** Output container for a set of tracks. */
export interface ContainerChoice {
  /** `webm` (VP8[+Opus]), `mkv` (H264[+Opus]), `ogg` (Opus only). */
  ext: 'webm' | 'mkv' | 'ogg';
  /** ffmpeg muxer name. */
  format: 'webm' | 'matroska' | 'ogg';
}

/**
 * Picks the container for the given codec MIME types. Opus alone goes to Ogg, unless `oggOpus` is
 * false (ffmpeg < 5.0 cannot write Ogg from RTP Opus: its muxer needs an Opus header RTP does not
 * carry), then to audio-only WebM. Pure.
 * @defaultValue oggOpus true
 */
export function chooseContainer(mimeTypes: readonly string[], options: { oggOpus?: boolean } = {}): ContainerChoice {
  const names = mimeTypes.map((m) => m.toLowerCase().split('/').pop());
  for (const name of names) {
    if (name !== 'opus' && name !== 'vp8' && name !== 'h264') {
      throw new MediaError('UNSUPPORTED_CODEC', `cannot record ${name} with -c copy: negotiate Opus, VP8 or H264 (see recordingCodecs())`);
    }
  }
  if (names.includes('h264')) return { ext: 'mkv', format: 'matroska' };
  if (names.includes('vp8')) return { ext: 'webm', format: 'webm' };
  return options.oggOpus === false ? { ext: 'webm', format: 'webm' } : { ext: 'ogg', format: 'ogg' };
}

/**
 * ffmpeg output options that keep a file readable if ffmpeg or its parent dies: every packet is
 * flushed; Matroska closes a cluster every second (a killed file loses at most that, and its
 * Duration is kept current by `MatroskaDurationPatcher`); Ogg closes a page every 200 ms and needs
 * nothing else, its duration comes from the last page.
 */
export function crashSafeOutputArgs(choice: ContainerChoice): string[] {
  const common = ['-flush_packets', '1', '-f', choice.format];
  return choice.format === 'ogg'
    ? [...common, '-page_duration', '200000']
    : [...common, '-cluster_time_limit', '1000', '-cluster_size_limit', String(2 * 1024 * 1024)];
}
