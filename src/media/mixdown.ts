import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from './errors.js';
import { spawnFfmpeg } from './ffmpeg.js';
import { detectFfmpegFeatures, missingFor, type FfmpegFeatures } from './ffmpeg-features.js';
import { locateFfmpeg, type FfmpegInfo } from './ffmpeg-locate.js';
import { liveLayout } from './live-layout.js';
import { readSidecar, type Sidecar, type SidecarFile } from './sidecar.js';
import { repairSidecar } from './sidecar-repair.js';
import { meetingEnd, writeSpeakerCaptions } from './speaker-captions.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Options for {@link mixdown}. */
export interface MixdownOptions {
  /** Output path. @defaultValue `<dir>/mix.webm`, or `<dir>/mix.ogg` without video */
  output?: string;
  /** Size of one grid cell. @defaultValue 640x360 */
  cellWidth?: number;
  cellHeight?: number;
  /** Output frame rate. @defaultValue 20 */
  fps?: number;
  /**
   * Write `<dir>/speakers.vtt` (who speaks when, from the speaker timeline) and mux it into the
   * mixed file as a subtitle track (WebM/MKV outputs). @defaultValue true
   */
  captions?: boolean;
  /** Called with ffmpeg's progress while it mixes. @defaultValue none */
  onProgress?: (progress: MixdownProgress) => void;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

/** How far a running {@link mixdown} is. */
export interface MixdownProgress {
  /** Output time written so far, ms. */
  timeMs: number;
  /** Expected output duration (from the sidecar), ms. */
  durationMs: number;
  /** `timeMs / durationMs`, 0..1. */
  fraction: number;
}

/** Result of {@link mixdown}. */
export interface MixdownResult {
  file: string;
  /** Files mixed, with their start offset in ms. */
  inputs: { file: string; offsetMs: number; kinds: ('audio' | 'video')[] }[];
  /** `speakers.vtt`, when captions were written (also muxed into `file` for WebM/MKV). */
  captions?: string;
}

/** Grid columns/rows for `n` tiles: as square as possible, wider than tall. Pure. */
export function gridSize(n: number): { cols: number; rows: number } {
  const cols = Math.ceil(Math.sqrt(n));
  return { cols, rows: Math.ceil(n / cols) };
}

/** The filters whose options differ between ffmpeg builds (see `FfmpegFeatures`). */
export type MixdownFeatures = Pick<FfmpegFeatures, 'adelayAll' | 'amixNormalize' | 'xstackFill'>;

/** A current ffmpeg (4.4+): every option the mix-down uses is there. */
const CURRENT_FFMPEG: MixdownFeatures = { adelayAll: true, amixNormalize: true, xstackFill: true };

/** One participant's audio: resampled, delayed by its start offset, padded to `totalMs` when asked. */
function audioChain(i: number, ms: number, features: MixdownFeatures, totalMs: number | undefined): string {
  // Without adelay's all=, each channel needs its own delay: make it exactly two channels first.
  const delay = features.adelayAll ? `adelay=${ms}:all=1` : `aformat=channel_layouts=stereo,adelay=${ms}|${ms}`;
  const pad = totalMs === undefined ? '' : `,apad,atrim=end=${totalMs / 1000}`;
  return `[${i}:a]aresample=48000,${delay}${pad}[a${i}]`;
}

/** One input of {@link mixdownFilter}: a recorded file placed at `offsetMs` from the meeting's start. */
export interface MixdownInput {
  offsetMs: number;
  kinds: readonly ('audio' | 'video')[];
  /**
   * Set for a screen share: when it is shown (ms from the meeting's start, from the sidecar's
   * `screenShares`). It takes the main tile then, the participants' videos stacked beside it.
   */
  screen?: { fromMs: number; toMs: number };
}

/**
 * Builds the ffmpeg filter graph: audio `adelay` by start offset then `amix`; video padded to a
 * cell, delayed with `tpad`, laid out with `xstack`. While a screen share is on, a second layout
 * (the live stream's {@link liveLayout}: the share as the main tile, the speakers beside it) is
 * shown over the grid. Returns the graph and output labels. Pure.
 *
 * `features` adapts it to older ffmpeg builds: without `amix normalize=` (< 4.4) every voice is
 * padded to `totalMs` so amix's 1/N scaling stays constant and a `volume=N` undoes it; without
 * `xstack fill=` (< 4.3) empty grid cells get a black copy of the first tile (they would be green).
 * @defaultValue features: a current ffmpeg
 */
export function mixdownFilter(
  inputs: readonly MixdownInput[],
  cell: { width: number; height: number; fps: number },
  features: MixdownFeatures = CURRENT_FFMPEG,
  totalMs?: number,
): { graph: string; audio?: string; video?: string } {
  const parts: string[] = [];
  const audio: string[] = [];
  const video: string[] = [];
  const screens: { label: string; index: number; at: { fromMs: number; toMs: number } }[] = [];
  const voices = inputs.filter((input) => input.kinds.includes('audio')).length;
  const padTo = voices > 1 && !features.amixNormalize ? Math.max(1, Math.round(totalMs ?? 0)) : undefined;
  inputs.forEach((input, i) => {
    const ms = Math.max(0, Math.round(input.offsetMs));
    if (input.kinds.includes('audio')) {
      parts.push(audioChain(i, ms, features, padTo));
      audio.push(`[a${i}]`);
    }
    if (input.screen && input.kinds.includes('video')) screens.push({ label: `[sh${i}]`, index: i, at: input.screen });
    else if (input.kinds.includes('video')) {
      parts.push(`[${i}:v]${fitChain(cell.width, cell.height, cell.fps)},tpad=start_duration=${ms / 1000}:start_mode=add:color=black[v${i}]`);
      video.push(`[v${i}]`);
    }
  });
  const out: { graph: string; audio?: string; video?: string } = { graph: '' };
  if (audio.length === 1) out.audio = audio[0];
  else if (audio.length > 1) {
    const mix = `${audio.join('')}amix=inputs=${audio.length}:duration=longest:dropout_transition=0`;
    parts.push(features.amixNormalize ? `${mix}:normalize=0[aout]` : `${mix},volume=${audio.length}[aout]`);
    out.audio = '[aout]';
  }
  const { cols, rows } = gridSize(Math.max(1, video.length));
  const size = { width: cols * cell.width, height: rows * cell.height };
  // With a share, every participant video also feeds a small tile of the share layout.
  const tiles = screens.length > 0 ? video.map((label, k) => splitForShares(parts, label, k)) : video;
  if (tiles.length === 1) out.video = tiles[0];
  else if (tiles.length > 1) {
    const stack = [...tiles];
    const empty = cols * rows - tiles.length;
    if (!features.xstackFill && empty > 0) {
      const fillers = Array.from({ length: empty }, (_, k) => `[fill${k}]`);
      // The first tile's stream, blacked out: the same size and length as a real tile.
      parts.push(`${tiles[0]}split=2[v0tile][v0copy]`, `[v0copy]lutyuv=y=16:u=128:v=128${empty > 1 ? `,split=${empty}` : ''}${fillers.join('')}`);
      stack[0] = '[v0tile]';
      stack.push(...fillers);
    }
    const layout = stack.map((_, k) => `${(k % cols) * cell.width}_${Math.floor(k / cols) * cell.height}`).join('|');
    parts.push(`${stack.join('')}xstack=inputs=${stack.length}:layout=${layout}${features.xstackFill ? ':fill=black' : ''}[vout]`);
    out.video = '[vout]';
  }
  if (screens.length > 0) out.video = shareLayout(parts, inputs, screens, video.length, size, cell.fps, out.video, totalMs);
  out.graph = parts.join(';');
  return out;
}

/** Scales to fit `w`x`h`, black bars around, square pixels, constant frame rate. Pure. */
function fitChain(w: number, h: number, fps: number): string {
  return `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${fps}`;
}

/** Splits participant video `label` into a grid tile (returned) and `[side<k>]` for the share layout. */
function splitForShares(parts: string[], label: string, k: number): string {
  parts.push(`${label}split=2[grid${k}][side${k}]`);
  return `[grid${k}]`;
}

/**
 * The share layout over the grid: a black canvas with each share in the main tile (from its start
 * offset) and the participants' `[side<k>]` copies beside it, shown over `grid` while a share is on
 * (`overlay` with `enable`). Returns the output label. Pure.
 */
function shareLayout(
  parts: string[],
  inputs: readonly MixdownInput[],
  screens: readonly { label: string; index: number; at: { fromMs: number; toMs: number } }[],
  participants: number,
  size: { width: number; height: number },
  fps: number,
  grid: string | undefined,
  totalMs: number | undefined,
): string {
  const ids = Array.from({ length: participants }, (_, k) => `side${k}`);
  const [main, ...sides] = liveLayout(ids, 'share', size.width, size.height);
  const duration = totalMs === undefined ? '' : `:d=${Math.max(1, totalMs) / 1000}`;
  parts.push(`color=c=black:s=${size.width}x${size.height}:r=${fps}${duration}[canvas]`);
  let base = '[canvas]';
  screens.forEach(({ label, index }, k) => {
    const ms = Math.max(0, Math.round(inputs[index]!.offsetMs));
    parts.push(`[${index}:v]${fitChain(main!.w, main!.h, fps)},tpad=start_duration=${ms / 1000}:start_mode=add:color=black${label}`);
    parts.push(`${base}${label}overlay=${main!.x}:${main!.y}:eof_action=pass[shared${k}]`);
    base = `[shared${k}]`;
  });
  sides.forEach((tile, k) => {
    parts.push(`[side${k}]scale=${tile.w}:${tile.h}:force_original_aspect_ratio=decrease,pad=${tile.w}:${tile.h}:(ow-iw)/2:(oh-ih)/2[small${k}]`);
    parts.push(`${base}[small${k}]overlay=${tile.x}:${tile.y}[beside${k}]`);
    base = `[beside${k}]`;
  });
  if (grid === undefined) return base;
  const on = screens.map(({ at }) => `between(t,${at.fromMs / 1000},${at.toMs / 1000})`).join('+');
  parts.push(`${grid}${base}overlay=0:0:enable='${on}'[vmix]`);
  return '[vmix]';
}

function startOf(f: SidecarFile): number {
  return f.firstSampleTime ?? f.startedAt;
}

/**
 * When a screen-share file is shown (ms from `t0`): the sidecar timeline's share of that sharer
 * that was on when the file started (its start and stop), else the file's own times. Pure.
 */
export function shownBetween(file: SidecarFile, shares: NonNullable<Sidecar['screenShares']>, end: number, t0: number): { fromMs: number; toMs: number } {
  const start = startOf(file);
  const mine = shares.filter((s) => s.participantId === file.participantId && s.startedAt <= start + 5000 && (s.stoppedAt ?? end) >= file.startedAt);
  const share = mine.sort((a, b) => Math.abs(a.startedAt - start) - Math.abs(b.startedAt - start))[0];
  const from = Math.max(start, share?.startedAt ?? start);
  const to = share?.stoppedAt ?? file.stoppedAt ?? end;
  return { fromMs: Math.max(0, from - t0), toMs: Math.max(0, to - t0) };
}

/**
 * Mixes a recording directory into one file (`spreed-bot mix <dir>`): every participant's audio,
 * placed by its first-sample time and mixed, and video in a grid. Transcodes (VP8/Opus in WebM).
 * Rejects with a {@link MediaError} when the sidecar is invalid, nothing is playable or ffmpeg fails.
 */
export async function mixdown(dir: string, options: MixdownOptions = {}): Promise<MixdownResult> {
  const logger = options.logger ?? silentLogger;
  // A recorder killed with SIGKILL left it `recording`: close it first (its files still play).
  await repairSidecar(join(dir, 'meeting.json')).catch(() => undefined);
  const sidecar = await readSidecar(join(dir, 'meeting.json'));
  const usable: SidecarFile[] = [];
  for (const f of sidecar.files) {
    if (f.state === 'failed') continue;
    if (await access(join(dir, f.file)).then(() => true, () => false)) usable.push(f);
  }
  if (usable.length === 0) throw new MediaError('NO_STREAMS', `nothing to mix in ${dir}: no playable recordings listed in meeting.json`);
  const t0 = Math.min(...usable.map(startOf));
  const end = meetingEnd(sidecar);
  const inputs = usable.map((f) => ({
    file: join(dir, f.file),
    offsetMs: startOf(f) - t0,
    kinds: f.kinds,
    ...(f.screen ? { screen: shownBetween(f, sidecar.screenShares ?? [], end, t0) } : {}),
  }));
  const cell = { width: options.cellWidth ?? 640, height: options.cellHeight ?? 360, fps: options.fps ?? 20 };
  const binary = options.ffmpeg ?? (await locateFfmpeg());
  const features = await detectFfmpegFeatures(binary.path);
  const missing = missingFor(features, 'mix');
  if (missing.length > 0) throw new MediaError('FFMPEG_MISSING_FEATURE', `the ffmpeg at ${binary.path} lacks ${missing.join(', ')} for the mix-down: install Debian's ffmpeg (apt-get install -y ffmpeg)`);
  const durationMs = Math.max(1, Math.max(...usable.map((f) => f.stoppedAt ?? end)) - t0);
  const { graph, audio, video } = mixdownFilter(inputs, cell, features, durationMs);
  const output = options.output ?? join(dir, video ? 'mix.webm' : 'mix.ogg');
  const captions = (options.captions ?? true) ? await writeSpeakerCaptions(dir, sidecar, t0) : undefined;
  // -stats: progress lines even at -loglevel error (for onProgress).
  const args = ['-hide_banner', '-loglevel', 'error', '-stats', '-nostdin', '-y'];
  for (const input of inputs) args.push('-i', input.file);
  const muxCaptions = captions !== undefined && captions.cues > 0 && /\.(webm|mkv)$/i.test(output);
  if (muxCaptions) args.push('-i', captions.path);
  args.push('-filter_complex', graph);
  if (video) args.push('-map', video, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k');
  if (audio) args.push('-map', audio, '-c:a', 'libopus', '-b:a', '96k');
  if (muxCaptions) args.push('-map', `${inputs.length}:s`, '-c:s', 'webvtt', '-metadata:s:s:0', 'title=Speakers');
  args.push(output);
  const ffmpeg = await spawnFfmpeg(args, { ffmpeg: binary, logger });
  const onProgress = options.onProgress;
  if (onProgress) {
    ffmpeg.progress$.subscribe(({ timeMs }) => onProgress({ timeMs, durationMs, fraction: Math.min(1, Math.max(0, timeMs / durationMs)) }));
  }
  const exit = await ffmpeg.exited;
  if (exit.error) throw exit.error;
  return { file: output, inputs, ...(captions ? { captions: captions.path } : {}) };
}
