import { execFile } from 'node:child_process';
import { MediaError } from './errors.js';
import type { FfmpegFeatures } from './ffmpeg-features.js';

/** Where a live stream goes. */
export type LiveTarget = { kind: 'rtmp'; url: string } | { kind: 'srt'; url: string } | { kind: 'hls'; dir: string };

/** Reads a stream target: `rtmp://`/`rtmps://` and `srt://` URLs, anything else is an HLS directory. Pure. */
export function parseLiveTarget(target: string): LiveTarget {
  if (/^rtmps?:\/\//i.test(target)) return { kind: 'rtmp', url: target };
  if (/^srt:\/\//i.test(target)) return { kind: 'srt', url: target };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new MediaError('UNSUPPORTED_CODEC', `cannot stream to ${target.split('?')[0]}: use rtmp://, rtmps://, srt:// or a directory for HLS`);
  return { kind: 'hls', dir: target };
}

/** Muxers and protocols of one ffmpeg build (what `-muxers`/`-protocols` list). */
export interface LiveFeatures {
  muxers: ReadonlySet<string>;
  protocols: ReadonlySet<string>;
}

function listed(text: string, pattern: RegExp): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (m) for (const n of m[1]!.split(',')) names.add(n.trim());
  }
  return names;
}

/** Parses `ffmpeg -muxers` and `ffmpeg -protocols` output. Pure. */
export function parseLiveFeatures(muxers: string, protocols: string): LiveFeatures {
  const out = protocols.split(/^Output:/m)[1] ?? '';
  return { muxers: listed(muxers, /^\s*[D ]?E[ d]?\s+(\S+)\s/), protocols: listed(out, /^\s+(\S+)\s*$/) };
}

const cache = new Map<string, Promise<LiveFeatures>>();
/** Detects (once per binary) the muxers and output protocols of the ffmpeg at `path`. Never rejects. */
export function detectLiveFeatures(path: string): Promise<LiveFeatures> {
  let found = cache.get(path);
  if (!found) {
    const run = (arg: string) => new Promise<string>((resolve) => execFile(path, ['-hide_banner', arg], { maxBuffer: 4 << 20 }, (_e, so, se) => resolve(`${so}${se}`)));
    found = Promise.all([run('-muxers'), run('-protocols')]).then(([m, p]) => parseLiveFeatures(m, p));
    cache.set(path, found);
  }
  return found;
}

/** What the build lacks for `target` (`['encoder libx264', 'protocol srt']`); empty when all is there. Pure. */
export function liveMissing(target: LiveTarget, features: Pick<FfmpegFeatures, 'encoders'>, live: LiveFeatures): string[] {
  const need: [string, boolean][] = [
    ['encoder libx264', features.encoders.has('libx264')],
    ['encoder aac', features.encoders.has('aac')],
  ];
  if (target.kind === 'rtmp') need.push(['muxer flv', live.muxers.has('flv')], [`protocol ${target.url.split(':')[0]!.toLowerCase()}`, live.protocols.has(target.url.split(':')[0]!.toLowerCase())]);
  if (target.kind === 'srt') need.push(['muxer mpegts', live.muxers.has('mpegts')], ['protocol srt', live.protocols.has('srt')]);
  if (target.kind === 'hls') need.push(['muxer hls', live.muxers.has('hls')]);
  return need.filter(([, ok]) => !ok).map(([name]) => name);
}

/** Output options after the encoders, per target. Pure. */
export function liveOutputArgs(target: LiveTarget): string[] {
  if (target.kind === 'rtmp') return ['-f', 'flv', target.url];
  if (target.kind === 'srt') return ['-f', 'mpegts', target.url];
  // Segments of 2 s, one GOP each (-g is 2 s of frames).
  return ['-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments', `${target.dir}/index.m3u8`];
}
