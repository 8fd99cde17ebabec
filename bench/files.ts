/**
 * File-transfer throughput between two werift peers in two processes (the uploader runs in a child
 * process so it does not share the downloader's CPU core; signalling goes over IPC):
 *
 * - `pipelined`: {@link fetchFile} with its defaults (several connections, a window of requests),
 * - `pipelined-1conn`: one connection, window 4,
 * - `stop-and-wait`: one connection, window 1 — the web client's downloader,
 * - `raw`: the child pushes the same bytes on a bare data channel (256 KiB / 64 KiB watermarks).
 *
 * Every figure includes connection setup. Modes are interleaved over rounds and the best run of each
 * counts, since the machine is shared. Targets: pipelined ≥ 3× stop-and-wait and ≥ 0.8× raw.
 *
 * Exploring: `FILES_BENCH_MODES='[{"name":"deep","connections":1,"window":16}]'`, `FILES_BENCH_MB`,
 * `FILES_BENCH_ROUNDS`, `FILES_BENCH_SOCKET_BUFFER`, `FILES_BENCH_HIGH` / `FILES_BENCH_LOW`.
 *
 * Run: `npx tsx bench/files.ts` (or through `bench/run.ts`, which calls {@link run}).
 * Writes `bench/results/files.json`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import {
  FileServer,
  SharedFiles,
  fetchFile,
  enlargeWeriftSocketBuffers,
  fromWeriftDataChannel,
  type ChunkChannel,
  type FileInfo,
  type TokenConnector,
} from '../src/files/index.js';

// Environment overrides are for exploring; the defaults are the benchmark.
const FILE_SIZE = Number(process.env.FILES_BENCH_MB ?? 50) * 1024 * 1024;
const CHUNK = 60_000;
const HIGH = Number(process.env.FILES_BENCH_HIGH ?? 256 * 1024);
const LOW = Number(process.env.FILES_BENCH_LOW ?? 64 * 1024);
const ROUNDS = Number(process.env.FILES_BENCH_ROUNDS ?? 2);
/**
 * UDP socket buffers on both peers, for every mode alike ({@link enlargeWeriftSocketBuffers}); with
 * the kernel's ~208 KiB default a busy machine drops datagrams and werift stalls ≥ 1 s per loss.
 * 0 keeps the kernel default.
 */
const SOCKET_BUFFER = Number(process.env.FILES_BENCH_SOCKET_BUFFER ?? 2 * 1024 * 1024);
const TARGET_VS_STOP_AND_WAIT = 3;
const TARGET_VS_RAW = 0.8;

const pcConfig = {
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv6: false,
  codecs: { audio: [], video: [] },
};

type ToChild =
  | { type: 'share'; path: string }
  | { type: 'offer'; id: number; sdp: string; mode: 'serve' | 'raw'; token: string; bytes: number };
type ToParent = { type: 'shared'; info: FileInfo } | { type: 'answer'; id: number; sdp: string } | { type: 'error'; message: string };

/** One measured mode. */
export interface FilesBenchMode {
  name: string;
  connections?: number;
  window?: number;
  /** MB/s (10^6 bytes/s) of every run. */
  runs: number[];
  /** Best of {@link runs}. */
  best: number;
}

/** What {@link run} measured; also written to `bench/results/files.json`. */
export interface FilesBenchResult {
  bench: 'files';
  date: string;
  fileBytes: number;
  chunkBytes: number;
  modes: FilesBenchMode[];
  ratios: { pipelinedVsStopAndWait: number; pipelinedVsRaw: number };
  targets: { vsStopAndWait: number; vsRaw: number };
  pass: { vsStopAndWait: boolean; vsRaw: boolean };
}

// ---------------------------------------------------------------- child: the uploader

async function child(): Promise<void> {
  const shared = new SharedFiles({ ownId: 'bench-uploader' });
  const server = new FileServer({ files: shared, highWaterMark: HIGH, lowWaterMark: LOW });
  const send = (m: ToParent): void => void process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToChild) => {
    void (async () => {
      try {
        if (m.type === 'share') {
          send({ type: 'shared', info: await shared.share(m.path) });
          return;
        }
        const pc = new RTCPeerConnection(pcConfig);
        pc.onDataChannel.subscribe((dc) => {
          const channel = fromWeriftDataChannel(dc, { owner: pc });
          if (m.mode === 'serve') server.serve(channel, m.token);
          else whenOpen(dc).then(() => pushRaw(channel, m.bytes), () => channel.close());
        });
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        if (SOCKET_BUFFER > 0) enlargeWeriftSocketBuffers(pc, SOCKET_BUFFER);
        send({ type: 'answer', id: m.id, sdp: pc.localDescription!.sdp });
      } catch (err) {
        send({ type: 'error', message: (err as Error).message });
      }
    })();
  });
}

/** The baseline: the same bytes pushed as fast as the watermarks allow, no requests, no disk. */
function pushRaw(channel: ChunkChannel, bytes: number): void {
  const block = randomBytes(CHUNK);
  let sent = 0;
  channel.bufferedAmountLowThreshold = LOW;
  const pump = (): void => {
    while (channel.isOpen && sent < bytes && channel.bufferedAmount < HIGH) {
      const n = Math.min(CHUNK, bytes - sent);
      channel.send(n === CHUNK ? block : block.subarray(0, n));
      sent += n;
    }
  };
  channel.bufferedAmountLow$.subscribe(pump);
  pump();
}

function whenOpen(dc: RTCDataChannel): Promise<void> {
  if (dc.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const sub = dc.stateChanged.subscribe((s) => {
      if (s === 'open') resolve();
      else if (s === 'closed') reject(new Error('data channel closed before opening'));
      else return;
      sub.unSubscribe();
    });
  });
}

// ---------------------------------------------------------------- parent: the downloader

class ChildPeer implements TokenConnector {
  private nextId = 0;
  private readonly pending = new Map<number, (sdp: string) => void>();
  private sharedWaiter?: (info: FileInfo) => void;
  private readonly pcs = new Set<RTCPeerConnection>();

  constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: ToParent) => {
      if (m.type === 'answer') this.pending.get(m.id)?.(m.sdp);
      else if (m.type === 'shared') this.sharedWaiter?.(m.info);
      else console.error(`files bench child: ${m.message}`);
    });
  }

  share(path: string): Promise<FileInfo> {
    return new Promise((resolve) => {
      this.sharedWaiter = resolve;
      this.proc.send({ type: 'share', path } satisfies ToChild);
    });
  }

  /** A token connection to the child, exactly as the peer layer would set it up. */
  open(_peerId: string, token: string): Promise<ChunkChannel> {
    return this.connect('serve', token, 0);
  }

  async connect(mode: 'serve' | 'raw', token: string, bytes: number): Promise<ChunkChannel> {
    const pc = new RTCPeerConnection(pcConfig);
    this.pcs.add(pc);
    const dc = pc.createDataChannel('default', { ordered: true });
    await pc.setLocalDescription(await pc.createOffer());
    if (SOCKET_BUFFER > 0) enlargeWeriftSocketBuffers(pc, SOCKET_BUFFER);
    const id = this.nextId++;
    const answer = new Promise<string>((resolve) => this.pending.set(id, resolve));
    this.proc.send({ type: 'offer', id, sdp: pc.localDescription!.sdp, mode, token, bytes } satisfies ToChild);
    await pc.setRemoteDescription({ type: 'answer', sdp: await answer });
    this.pending.delete(id);
    await whenOpen(dc);
    return fromWeriftDataChannel(dc, { owner: { close: () => (this.pcs.delete(pc), pc.close()) } });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pcs].map((pc) => pc.close().catch(() => undefined)));
  }
}

async function timeRaw(peer: ChildPeer, bytes: number): Promise<number> {
  const started = performance.now();
  const channel = await peer.connect('raw', '', bytes);
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    channel.message$.subscribe((m) => {
      received += m.length;
      if (received >= bytes) resolve();
    });
    channel.closed$.subscribe(() => received < bytes && reject(new Error('raw channel closed early')));
  });
  const seconds = (performance.now() - started) / 1000;
  channel.close();
  return bytes / 1e6 / seconds;
}

/** Times one download; when `expected` is given, also checks the bytes (outside the timing). */
async function timeFetch(peer: ChildPeer, info: FileInfo, target: string, connections?: number, window?: number, expected?: Buffer): Promise<number> {
  const started = performance.now();
  const result = await fetchFile({ connector: peer, peerId: 'bench-uploader', info, targetDir: target, connections, window }).done;
  const seconds = (performance.now() - started) / 1000;
  if (result.size !== info.size) throw new Error(`fetched ${result.size} bytes, expected ${info.size}`);
  if (expected && !(await readFile(result.path)).equals(expected)) throw new Error('fetched file differs from the source');
  await rm(result.path);
  return info.size / 1e6 / seconds;
}

/** Runs the benchmark, prints the figures and writes `bench/results/files.json`. */
export async function run(): Promise<FilesBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'files-bench-'));
  const src = join(dir, 'fifty.bin');
  const content = randomBytes(FILE_SIZE);
  await writeFile(src, content);
  const proc = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FILES_BENCH_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const peer = new ChildPeer(proc);
  const modes: FilesBenchMode[] = process.env.FILES_BENCH_MODES
    ? (JSON.parse(process.env.FILES_BENCH_MODES) as FilesBenchMode[]).map((m) => ({ ...m, runs: [], best: 0 }))
    : [
        { name: 'raw', runs: [], best: 0 },
        { name: 'pipelined', runs: [], best: 0 },
        { name: 'pipelined-1conn', connections: 1, window: 4, runs: [], best: 0 },
        { name: 'stop-and-wait', connections: 1, window: 1, runs: [], best: 0 },
      ];
  try {
    const info = await peer.share(src);
    let verified = false;

    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of modes) {
        if (mode.name === 'stop-and-wait' && round > 0) continue; // slow and steady: once is enough
        let mbps: number;
        if (mode.name === 'raw') {
          mbps = await timeRaw(peer, FILE_SIZE);
        } else {
          // The first download is also checked byte by byte.
          mbps = await timeFetch(peer, info, join(dir, 'out'), mode.connections, mode.window, verified ? undefined : content);
          verified = true;
        }
        mode.runs.push(Number(mbps.toFixed(2)));
        console.log(`files bench: ${mode.name.padEnd(16)} ${mbps.toFixed(2)} MB/s`);
      }
    }
  } finally {
    await peer.close();
    proc.kill();
    await rm(dir, { recursive: true, force: true });
  }
  for (const m of modes) m.best = Math.max(...m.runs);
  const best = (name: string): number => modes.find((m) => m.name === name)?.best ?? NaN;
  const ratios = {
    pipelinedVsStopAndWait: Number((best('pipelined') / best('stop-and-wait')).toFixed(2)),
    pipelinedVsRaw: Number((best('pipelined') / best('raw')).toFixed(2)),
  };
  const result: FilesBenchResult = {
    bench: 'files',
    date: new Date().toISOString(),
    fileBytes: FILE_SIZE,
    chunkBytes: CHUNK,
    modes,
    ratios,
    targets: { vsStopAndWait: TARGET_VS_STOP_AND_WAIT, vsRaw: TARGET_VS_RAW },
    pass: { vsStopAndWait: ratios.pipelinedVsStopAndWait >= TARGET_VS_STOP_AND_WAIT, vsRaw: ratios.pipelinedVsRaw >= TARGET_VS_RAW },
  };
  console.log(
    `files bench: pipelined/stop-and-wait = ${ratios.pipelinedVsStopAndWait}× (target ≥ ${TARGET_VS_STOP_AND_WAIT}, ${result.pass.vsStopAndWait ? 'ok' : 'MISSED'}), ` +
      `pipelined/raw = ${ratios.pipelinedVsRaw}× (target ≥ ${TARGET_VS_RAW}, ${result.pass.vsRaw ? 'ok' : 'MISSED'})`,
  );
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'files.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.env.FILES_BENCH_CHILD === '1') {
  void child();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
