import { execFile } from 'node:child_process';

/**
 * What one ffmpeg binary can do, as far as spreed-bot's command lines care. Detected from the
 * binary's own `-version` and `-h` output (never guessed from the version string), so a distro
 * ffmpeg, the 2018 static build in `@ffmpeg-installer/ffmpeg` and a user's own build all get
 * command lines they accept.
 */
export interface FfmpegFeatures {
  /** First token after `ffmpeg version`, e.g. `5.1.9-0+deb12u1` or `N-47683-g0e8eb07980-static`. */
  version: string;
  /** libavformat major.minor (`58.24` is ffmpeg 4.1, `59.27` is 5.1): a number even for git builds. */
  libavformat?: string;
  /**
   * Ogg output from RTP Opus with `-c copy`. The Ogg muxer needs an Opus header the RTP input does
   * not carry: the bundled 4.1 build (libavformat 58.24) fails with "No extradata present", 5.1
   * (59.27) writes the file. No help text shows this, so libavformat 59 (ffmpeg 5.0) or newer is
   * taken to have it; older builds record audio alone to WebM instead.
   */
  oggOpusFromRtp: boolean;
  /** `-stats_period` (ffmpeg 4.4+); without it ffmpeg prints stats every 0.5 s, which is fine. */
  statsPeriod: boolean;
  /**
   * Name of the RTSP demuxer's socket I/O timeout in µs: `timeout` since 5.0, `stimeout` before
   * (where `timeout` was the *listen* timeout in seconds). Undefined when neither exists.
   */
  rtspSocketTimeout?: string;
  /** `adelay=...:all=1` (4.2+); otherwise one delay per channel is given. */
  adelayAll: boolean;
  /** `amix=...:normalize=0` (4.4+); otherwise inputs are padded to one length and the 1/N scaling undone. */
  amixNormalize: boolean;
  /** `xstack=...:fill=` (4.3+); otherwise empty grid cells get a black tile. */
  xstackFill: boolean;
  /** Encoder names (`libopus`, `libvpx`, …). */
  encoders: ReadonlySet<string>;
  /** Filter names (`testsrc2`, `sine`, `amix`, …). */
  filters: ReadonlySet<string>;
}

/** Raw help texts {@link parseFfmpegFeatures} reads; each is the output of one ffmpeg call. */
export interface FfmpegHelpTexts {
  /** `ffmpeg -hide_banner -version` */
  version: string;
  /** `ffmpeg -hide_banner -h long` (global and per-file CLI options) */
  long: string;
  /** `ffmpeg -hide_banner -h demuxer=rtsp` */
  rtsp: string;
  /** `ffmpeg -hide_banner -h filter=adelay` */
  adelay: string;
  /** `ffmpeg -hide_banner -h filter=amix` */
  amix: string;
  /** `ffmpeg -hide_banner -h filter=xstack` */
  xstack: string;
  /** `ffmpeg -hide_banner -encoders` */
  encoders: string;
  /** `ffmpeg -hide_banner -filters` */
  filters: string;
}

/** The ffmpeg arguments that print each help text. */
export const FFMPEG_HELP_ARGS: Readonly<Record<keyof FfmpegHelpTexts, readonly string[]>> = {
  version: ['-version'],
  long: ['-h', 'long'],
  rtsp: ['-h', 'demuxer=rtsp'],
  adelay: ['-h', 'filter=adelay'],
  amix: ['-h', 'filter=amix'],
  xstack: ['-h', 'filter=xstack'],
  encoders: ['-encoders'],
  filters: ['-filters'],
};

/** One AVOption of a `-h demuxer=…`/`-h filter=…` listing. */
export interface AvOption {
  name: string;
  description: string;
}

/** Parses the AVOption lines (`  -timeout  <int>  .D....... set …`, filters without the dash). Pure. */
export function parseAvOptions(help: string): AvOption[] {
  const options: AvOption[] = [];
  for (const line of help.split('\n')) {
    const m = /^\s+-?([A-Za-z][\w-]*)\s+<[\w ]+>\s+[.A-Z]+\s*(.*)$/.exec(line);
    if (m) options.push({ name: m[1]!, description: m[2]!.trim() });
  }
  return options;
}

/** Names of ffmpeg's command-line options in `-h long` output (`-stats_period time  set …`). Pure. */
export function parseCliOptions(help: string): Set<string> {
  const names = new Set<string>();
  for (const line of help.split('\n')) {
    const m = /^-([A-Za-z][\w:]*)\b/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Names listed by `-encoders` or `-filters` (` A..... libopus  …`, ` ... testsrc2  |->V  …`). Pure. */
export function parseComponentList(list: string): Set<string> {
  const names = new Set<string>();
  for (const line of list.split('\n')) {
    const m = /^ [A-Z.|]{3,6} ([\w-]+)\s+\S/.exec(line);
    if (m && m[1] !== '=') names.add(m[1]!);
  }
  return names;
}

/** Builds {@link FfmpegFeatures} from the help texts of one binary. Pure. */
export function parseFfmpegFeatures(help: FfmpegHelpTexts): FfmpegFeatures {
  const has = (text: string, name: string) => parseAvOptions(text).some((o) => o.name === name);
  const libavformat = /libavformat\s+(\d+)\.\s*(\d+)/.exec(help.version);
  const socketTimeout = parseAvOptions(help.rtsp).find((o) => /microseconds/i.test(o.description) && /socket/i.test(o.description));
  return {
    version: /ffmpeg version (\S+)/.exec(help.version)?.[1] ?? 'unknown',
    libavformat: libavformat ? `${libavformat[1]}.${libavformat[2]}` : undefined,
    oggOpusFromRtp: libavformat ? Number(libavformat[1]) >= 59 : true,
    statsPeriod: parseCliOptions(help.long).has('stats_period'),
    rtspSocketTimeout: socketTimeout?.name,
    adelayAll: has(help.adelay, 'all'),
    amixNormalize: has(help.amix, 'normalize'),
    xstackFill: has(help.xstack, 'fill'),
    encoders: parseComponentList(help.encoders),
    filters: parseComponentList(help.filters),
  };
}

/** What spreed-bot needs from ffmpeg, per feature, as `[component kind, name]`. */
const NEEDS = {
  recording: [['demuxer option', 'RTSP socket timeout']],
  demo: [['encoder', 'libvpx'], ['encoder', 'libopus'], ['filter', 'testsrc2'], ['filter', 'sine'], ['filter', 'hue']],
  mix: [['encoder', 'libvpx'], ['encoder', 'libopus'], ['filter', 'amix'], ['filter', 'adelay'], ['filter', 'xstack'], ['filter', 'tpad'], ['filter', 'apad'], ['filter', 'atrim']],
  'media-out': [['encoder', 'libopus']],
} as const;

/** A spreed-bot feature that needs something from ffmpeg. */
export type FfmpegUse = keyof typeof NEEDS;

/** What `features` lacks for `use`, e.g. `['encoder libvpx']`; empty when it has everything. Pure. */
export function missingFor(features: FfmpegFeatures, use: FfmpegUse): string[] {
  return NEEDS[use]
    .filter(([kind, name]) => {
      if (kind === 'encoder') return !features.encoders.has(name);
      if (kind === 'filter') return !features.filters.has(name);
      return features.rtspSocketTimeout === undefined;
    })
    .map(([kind, name]) => `${kind} ${name}`);
}

/**
 * What a user gets differently with this binary (empty for a current ffmpeg), for start-up
 * messages and `spreed-bot doctor`. Pure.
 */
export function featureNotes(features: FfmpegFeatures): string[] {
  const notes: string[] = [];
  if (!features.oggOpusFromRtp) notes.push('audio-only recordings are .webm, not .ogg (ffmpeg < 5.0 cannot write Ogg from RTP Opus)');
  return notes;
}

/**
 * The command-line adaptations spreed-bot makes for this binary (empty for a current ffmpeg): the
 * results are the same, this is for `spreed-bot doctor` and bug reports. Pure.
 */
export function adaptedOptions(features: FfmpegFeatures): string[] {
  const adapted: string[] = [];
  if (!features.statsPeriod) adapted.push('no -stats_period (< 4.4): progress every 0.5 s');
  if (features.rtspSocketTimeout && features.rtspSocketTimeout !== 'timeout') adapted.push(`RTSP input timeout as -${features.rtspSocketTimeout} (< 5.0)`);
  if (!features.adelayAll) adapted.push('mix: adelay per channel, no all= (< 4.2)');
  if (!features.amixNormalize) adapted.push('mix: voices padded to the meeting and volume=N, no amix normalize= (< 4.4)');
  if (!features.xstackFill) adapted.push('mix: black tiles for empty grid cells, no xstack fill= (< 4.3)');
  return adapted;
}

/** A help text, and whether ffmpeg answered at all (not killed by the timeout on a starved machine). */
interface HelpAnswer {
  text: string;
  answered: boolean;
}

function helpText(path: string, args: readonly string[]): Promise<HelpAnswer> {
  return new Promise((resolve) => {
    // `-h filter=x` prints to stdout; some builds print errors to stderr with exit code 0 or 1.
    execFile(path, ['-hide_banner', ...args], { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ text: `${stdout}${stderr}`, answered: !(err && (err as { killed?: boolean }).killed) }),
    );
  });
}

const cache = new Map<string, Promise<FfmpegFeatures>>();

/**
 * Detects (once per binary path, cached) what the ffmpeg at `path` supports. Never rejects.
 * A detection where ffmpeg did not answer in time is not cached, so a loaded machine's timeout
 * does not leave the process believing ffmpeg lacks every encoder.
 */
export function detectFfmpegFeatures(path: string): Promise<FfmpegFeatures> {
  let features = cache.get(path);
  if (!features) {
    features = (async () => {
      const keys = Object.keys(FFMPEG_HELP_ARGS) as (keyof FfmpegHelpTexts)[];
      const answers = await Promise.all(keys.map((k) => helpText(path, FFMPEG_HELP_ARGS[k])));
      if (answers.some((a) => !a.answered)) cache.delete(path);
      return parseFfmpegFeatures(Object.fromEntries(keys.map((k, i) => [k, answers[i]!.text])) as unknown as FfmpegHelpTexts);
    })();
    cache.set(path, features);
  }
  return features;
}
