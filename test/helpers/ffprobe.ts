import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from './env.js';

const run = promisify(execFile);

/** Streams and duration of a media file as ffprobe sees them. */
export interface Probe {
  duration: number;
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
}

/** Runs ffprobe on a file; rejects when ffprobe cannot read it. */
export async function probe(path: string): Promise<Probe> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path]);
  const json = JSON.parse(stdout) as { format?: { duration?: string }; streams?: Probe['streams'] };
  return { duration: Number(json.format?.duration ?? 0), streams: json.streams ?? [] };
}

/** Mean luma (0–255) of a region (`w:h:x:y`, ffmpeg's crop) of the frame at `seconds` of `input` (a file or an HLS playlist). */
export async function meanLuma(input: string, seconds: number, crop: string): Promise<number> {
  const { stdout } = await run(ffmpegPath, ['-v', 'error', '-ss', String(seconds), '-i', input, '-frames:v', '1', '-vf', `crop=${crop}`, '-pix_fmt', 'gray', '-f', 'rawvideo', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  return stdout.reduce((a, b) => a + b, 0) / stdout.length;
}
