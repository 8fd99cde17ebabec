/**
 * What each bench's `bench/results/<name>.json` means as report rows. Every bench writes its own
 * shape (and its owner may add or drop fields), so each reader looks fields up by path and leaves
 * out a row whose figure is missing; a bench with no reader (or whose reader finds nothing) gets
 * one row from its `summary`.
 */

/** One line of the report. */
export interface FigureRow {
  /** Result file name without `.json`. */
  bench: string;
  figure: string;
  /** The measured value, with its unit. */
  measured: string;
  /** What it should be, or `—`. */
  target: string;
  /** Against the baseline measured in the same run, e.g. `1.13× bare receive`, or `—`. */
  ratio: string;
  /** Whether the target is met; undefined when there is no target. */
  met?: boolean;
  /** Day of the run (UTC, `YYYY-MM-DD`), or `—`. */
  date: string;
  /** Cores of the machine the run was on, or `—`. */
  cores: string;
}

type Json = unknown;
type Row = Omit<FigureRow, 'bench' | 'date' | 'cores'>;

/** The value at a dotted path (`a.b.0.c`), or undefined. */
export function at(value: Json, path: string): Json {
  let here: Json = value;
  for (const key of path.split('.')) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, Json>)[key];
  }
  return here;
}

function num(value: Json, path: string): number | undefined {
  const x = at(value, path);
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

function list(value: Json, path: string): Json[] {
  const x = at(value, path);
  return Array.isArray(x) ? x : [];
}

/** Up to 3 significant digits, no trailing zeros (`1.13`, `0.095`, `150`). */
export function fmt(x: number): string {
  if (x === 0) return '0';
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3;
  return String(Number(x.toFixed(digits)));
}

const times = (x: number | undefined, of: string): string => (x === undefined ? '—' : `${fmt(x)}× ${of}`);
const pct = (x: number) => `${fmt(x * 100)} %`;

/** `date`/`at` of a result as `YYYY-MM-DD`. */
function dateOf(result: Json): string {
  const raw = at(result, 'date') ?? at(result, 'at');
  return typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}/.test(raw) ? raw.slice(0, 10) : '—';
}

function coresOf(result: Json): string {
  const cores = num(result, 'cores') ?? num(result, 'machine.cores') ?? num(result, 'machine.cpus');
  return cores === undefined ? '—' : String(cores);
}

/** The recorder ramp and the older fixed-step recorder bench share most fields. */
function recorderRows(r: Json): Row[] {
  const rows: Row[] = [];
  const streams = num(r, 'maxLossFreeStreams');
  const targetStreams = num(r, 'targets.streams');
  const targetRatio = num(r, 'targets.nodeCpuRatio');
  const steps = list(r, 'steps');
  const knee = steps.filter((s) => at(s, 'lossFree') === true).at(-1);
  if (streams !== undefined) {
    const stoppedBy = at(r, 'stoppedBy');
    rows.push({
      figure: 'A/V streams recorded without loss (one process)',
      measured: `${streams}${typeof stoppedBy === 'string' ? ` (then: ${stoppedBy})` : ''}`,
      target: targetStreams === undefined ? '—' : `≥ ${targetStreams}`,
      ratio: '—',
      met: targetStreams === undefined ? undefined : streams >= targetStreams,
    });
  }
  const ratio = num(knee, 'nodeCpuRatio');
  if (knee !== undefined && ratio !== undefined) {
    const record = num(knee, 'recordNodeCpuPerStream');
    const ffmpeg = num(knee, 'ffmpegCpuPerStream');
    rows.push({
      figure: `node CPU per stream at ${String(at(knee, 'streams'))} streams${ffmpeg === undefined ? '' : ` (+ ffmpeg ${pct(ffmpeg)})`}`,
      measured: record === undefined ? '—' : `${pct(record)} of a core`,
      target: targetRatio === undefined ? '—' : `≤ ${targetRatio}× bare receive`,
      ratio: times(ratio, 'bare receive'),
      met: targetRatio === undefined ? undefined : ratio <= targetRatio,
    });
  }
  return rows;
}

function callsRows(r: Json): Row[] {
  return list(r, 'kinds').flatMap((k): Row[] => {
    const knee = num(k, 'knee');
    if (knee === undefined) return [];
    const first = num(k, 'firstMedianMs');
    const atKnee = num(k, 'kneeMedianMs');
    // Error messages name the caller's session id: long, and says nothing to a reader.
    const stoppedBy = typeof at(k, 'stoppedBy') === 'string' ? (at(k, 'stoppedBy') as string).replace(/call with \S+ /g, 'call ') : undefined;
    return [
      {
        figure: `${String(at(k, 'kind'))} calls per process (setup < 2× first step, none failed)`,
        measured: `${knee}${typeof stoppedBy === 'string' ? ` (then: ${stoppedBy})` : ''}`,
        target: '—',
        ratio: first !== undefined && atKnee !== undefined ? `${fmt(atKnee / first)}× first-step setup (${fmt(first)} → ${fmt(atKnee)} ms)` : '—',
      },
    ];
  });
}

function channelRows(r: Json): Row[] {
  const ratio = num(r, 'ratio');
  const docs = num(r, 'channelDocsPerSecond');
  const target = num(r, 'target');
  if (ratio === undefined || docs === undefined) return [];
  return [
    {
      figure: 'documents/s through the channel pipeline',
      measured: `${docs.toLocaleString('en')} docs/s`,
      target: target === undefined ? '—' : `≥ ${target}× raw`,
      ratio: times(ratio, 'raw ws + JSON.parse'),
      met: target === undefined ? undefined : ratio >= target,
    },
  ];
}

function filesRows(r: Json): Row[] {
  const rows: Row[] = [];
  for (const c of list(r, 'conditions')) {
    const name = String(at(c, 'name'));
    const modes = list(c, 'modes');
    const pipelined = modes.find((m) => at(m, 'name') === 'pipelined');
    const best = num(pipelined, 'best');
    const ratios = at(c, 'ratios');
    const judged = at(c, 'judged') === true;
    for (const [key, value] of Object.entries(ratios !== null && typeof ratios === 'object' ? ratios : {})) {
      if (typeof value !== 'number') continue;
      const against = key.replace(/^pipelinedVs/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      const target = judged ? num(r, `targets.vs${key.replace(/^pipelinedVs/, '')}`) : undefined;
      rows.push({
        figure: `50 MB fetch on ${name}, pipelined vs ${against}`,
        measured: best === undefined ? '—' : `${fmt(best)} MB/s`,
        target: target === undefined ? '—' : `≥ ${target}×`,
        ratio: times(value, against),
        met: target === undefined ? undefined : value >= target,
      });
    }
  }
  const wc = at(r, 'webClient');
  const ratio = num(wc, 'ratio');
  if (ratio !== undefined) {
    const target = num(wc, 'target');
    const bot = num(wc, 'bot.median');
    rows.push({
      figure: 'web client downloading from the bot vs from a browser (loopback)',
      measured: bot === undefined ? '—' : `${fmt(bot)} MB/s`,
      target: target === undefined ? '—' : `≥ ${target}×`,
      ratio: times(ratio, 'browser'),
      met: target === undefined ? undefined : ratio >= target,
    });
  }
  return rows;
}

function streamRows(r: Json): Row[] {
  return list(r, 'steps').flatMap((s): Row[] => {
    const cores = num(s, 'cores');
    const ratio = num(s, 'ratio');
    if (cores === undefined) return [];
    return [
      {
        figure: `live stream of ${String(at(s, 'participants'))} participants`,
        measured: `${fmt(cores)} cores${at(s, 'realTime') === false ? ', not real-time' : ''}`,
        target: '—',
        ratio: times(ratio, 'without streaming'),
      },
    ];
  });
}

function scaleRows(r: Json): Row[] {
  const last = list(r, 'results').at(-1);
  const perBot = num(last, 'perBotMiB');
  if (perBot === undefined) return [];
  return [
    {
      figure: `RSS per idle bot, ${String(at(last, 'bots'))} bots (${String(at(last, 'setup'))})`,
      measured: `${fmt(perBot)} MiB`,
      target: '< 20 MiB',
      ratio: '—',
      met: perBot < 20,
    },
  ];
}

function qualityRows(r: Json): Row[] {
  const median = num(r, 'medians.720p-remb');
  if (median === undefined) return [];
  return [{ figure: 'recorded video bitrate with REMB (median)', measured: '—', target: '≥ 0.8×', ratio: times(median, 'browser → browser'), met: median >= 0.8 }];
}

function fleetRows(r: Json): Row[] {
  const rows: Row[] = [];
  const max = num(r, 'handover.maxMs');
  const targetMax = num(r, 'handover.targetMaxMs');
  if (max !== undefined) {
    // Kills after which no new segment started are hand-overs that did not happen in time.
    const missing = num(r, 'handover.notContinued') ?? 0;
    const kills = num(r, 'handover.kills');
    rows.push({
      figure: `fleet hand-over after a worker is killed (max${kills === undefined ? '' : ` of ${kills} kills`})`,
      measured: `${fmt(max / 1000)} s${missing ? `, ${missing} without a new segment` : ''}`,
      target: targetMax === undefined ? '—' : `≤ ${fmt(targetMax / 1000)} s`,
      ratio: '—',
      met: targetMax === undefined ? undefined : max <= targetMax && missing === 0,
    });
  }
  const submit = num(r, 'submitToJoined.medianMs');
  if (submit !== undefined) {
    rows.push({ figure: 'fleet submit → recorder joined (median)', measured: `${fmt(submit / 1000)} s`, target: '—', ratio: '—', met: undefined });
  }
  const ratio = num(r, 'throughput.ratio2to1');
  if (ratio !== undefined) {
    const pps = num(r, 'throughput.workers2.packetsPerSecond');
    const streams = num(r, 'throughput.workers2.streams');
    const lost = Math.max(num(r, 'throughput.workers1.lostPercent') ?? 0, num(r, 'throughput.workers2.lostPercent') ?? 0);
    const measured = pps === undefined ? '—' : `${fmt(pps)} packets/s of ${streams ?? '?'} streams, ${fmt(lost)} % lost`;
    rows.push({ figure: 'fleet recorded packets/s, 2 workers vs 1', measured, target: '≥ 1.7×', ratio: times(ratio, '1 worker'), met: ratio >= 1.7 });
  }
  return rows;
}

function peerRows(r: Json): Row[] {
  const median = num(r, 'latency.medianMs');
  const raw = num(r, 'latency.baselineRawWeriftMedianMs');
  const idle = num(r, 'capacity.idleCalls');
  const rows: Row[] = [];
  if (median !== undefined) rows.push({ figure: 'offer → connected, bot ↔ bot (median)', measured: `${fmt(median)} ms`, target: '—', ratio: raw ? times(median / raw, 'raw werift') : '—' });
  if (idle !== undefined) rows.push({ figure: 'idle calls held (both ends in one process)', measured: String(idle), target: '—', ratio: '—' });
  return rows;
}

/** Readers by result file name. */
const readers: Record<string, (result: Json) => Row[]> = {
  channel: channelRows,
  calls: callsRows,
  files: filesRows,
  fleet: fleetRows,
  peer: peerRows,
  quality: qualityRows,
  recorder: recorderRows,
  'recorder-ramp': recorderRows,
  scale: scaleRows,
  stream: streamRows,
};

/** The report rows of one result file (`bench` is its name without `.json`). */
export function figuresOf(bench: string, result: Json): FigureRow[] {
  let rows: Row[] = [];
  try {
    rows = readers[bench]?.(result) ?? [];
  } catch {
    rows = []; // a shape this reader does not know: fall back to the summary
  }
  if (rows.length === 0) {
    const summary = at(result, 'summary');
    rows = [{ figure: typeof summary === 'string' ? summary : 'no figures', measured: '—', target: '—', ratio: '—' }];
  }
  const date = dateOf(result);
  const cores = coresOf(result);
  return rows.map((row) => ({ bench, ...row, date, cores }));
}
