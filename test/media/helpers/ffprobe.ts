import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ffprobePath } from '../../helpers/env.js';

/** What ffprobe says about a file. */
export interface Probe {
  duration: number;
  streams: { codec_name: string; codec_type: string; duration?: string }[];
  tags: Record<string, string>;
}

/** Runs ffprobe; duration is NaN when the container has none. */
export function ffprobe(file: string): Probe {
  const json = JSON.parse(execFileSync(ffprobePath, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]).toString()) as {
    format: { duration?: string; tags?: Record<string, string> };
    streams: Probe['streams'];
  };
  return { duration: Number(json.format.duration ?? NaN), streams: json.streams, tags: json.format.tags ?? {} };
}

/** True when a Matroska file contains a Cues element ID (written on a clean finish). Crude byte search. */
export function hasCues(file: string): boolean {
  return readFileSync(file).includes(Buffer.from([0x1c, 0x53, 0xbb, 0x6b]));
}
