import { detectFfmpegFeatures, locateFfmpeg, type FfmpegFeatures } from '../../../src/media/index.js';

/** What the ffmpeg these tests run (system, or bundled in the second pass) supports. */
export async function ffmpegFeatures(): Promise<FfmpegFeatures> {
  return detectFfmpegFeatures((await locateFfmpeg()).path);
}

/** Extension of an audio-only recording with this ffmpeg: `ogg`, or `webm` where Ogg from RTP Opus fails (< 5.0). */
export async function audioOnlyExt(): Promise<'ogg' | 'webm'> {
  return (await ffmpegFeatures()).oggOpusFromRtp ? 'ogg' : 'webm';
}
