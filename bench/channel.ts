/**
 * Documents per second through the channel's full pipeline (socket → parse → validate →
 * documents$ → one subscriber) against a raw `ws` + `JSON.parse` baseline in the same run:
 * the same frames (a realistic mix of Candidate, Chat and Status documents), sent as fast as
 * possible in batches by a ws server in a worker thread, several rounds each, medians compared.
 * Writes bench/results/channel.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { Channel } from '../src/channel/index.js';

const DOCS = 60_000;
const ROUNDS = 7;
const TARGET = 0.8;
const here = dirname(fileURLToPath(import.meta.url));

/** A realistic mix, as the real server encodes them (PROTOCOL-NOTES §13). */
function makeFrames(count: number): string[] {
  const from = 'MTc5NTYyNDg1OXxCMUVBb0JDLXBnbEhXeHNKc1pGcFpXMHd1aGt4bnRkVGRLbXJ0Y1FFTzB3RmF3PT18' ;
  const to = 'MTc5NTYyNDg1OXxlQUdDMXpaZmRpZ3hlaUl4emJNU2dBQmRQcU9HaGJaOFdYWUxvN2lOR2dVPT18cG9l';
  const a = 'MTc5NTYyNDg2MnxIb0hDLUZJUzhNM0VaaU5lQ0h4Y3A3X2ZPeUx5VDlHR19KdkFtN0NKNF9JWT18';
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = i % 10;
    let data: object;
    if (r < 5) {
      data = { Type: 'Candidate', To: to, Candidate: { candidate: `candidate:2745207044 1 udp 2122194687 127.0.0.1 ${40000 + (i % 20000)} typ host generation 0 ufrag j6G4 network-id 3 network-cost 50`, sdpMLineIndex: i % 2, sdpMid: String(i % 2), type: 'candidate' } };
    } else if (r < 8) {
      data = { To: '', Type: 'Chat', Chat: { Message: `message number ${i} from the benchmark, with some ordinary text`, Time: '2026-11-25T16:44:05Z', NoEcho: true, Mid: (i * 2654435761).toString(16).padStart(32, '0').slice(0, 32), Status: null } };
    } else {
      data = { Type: 'Status', Id: from, Rev: i, Prio: 100, Status: { buddyPicture: null, displayName: `Participant ${i % 7}`, message: null } };
    }
    out.push(`${JSON.stringify({ Data: data, From: from, ...(r < 5 ? { To: to } : {}), A: a })}\n`);
  }
  return out;
}

const serverSource = `
const { WebSocketServer } = require(process.env.WS_PATH);
const frames = JSON.parse(require('node:fs').readFileSync(process.env.FRAMES_FILE, 'utf8'));
const self = JSON.stringify({ Data: { Type: 'Self', Id: 'bench', Sid: 's', Userid: '', Suserid: '', Token: 't', Version: 'bench', ApiVersion: 1.4, Turn: { username: '', password: '', ttl: 0, urls: null }, Stun: [] }, From: 'bench' });
const end = JSON.stringify({ Data: { To: '', Type: 'Chat', Chat: { Message: 'end', Status: null } }, From: 'bench' });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => process.stdout.write(wss.address().port + '\\n'));
wss.on('connection', (socket) => {
  socket.send(self);
  // The client says when it is subscribed; then everything goes out as fast as possible.
  socket.once('message', () => {
    let i = 0;
    const batch = () => {
      const stop = Math.min(i + 2000, frames.length);
      for (; i < stop; i++) socket.send(frames[i]);
      if (i < frames.length) setImmediate(batch);
      else socket.send(end);
    };
    batch();
  });
});
`;

/** The sending server runs in its own process, so the client's CPU time is the client's alone. */
async function startServer(frames: string[]): Promise<{ url: string; stop: () => void }> {
  const framesFile = join(tmpdir(), `spreed-bot-bench-${process.pid}.json`);
  writeFileSync(framesFile, JSON.stringify(frames));
  const wsPath = createRequire(import.meta.url).resolve('ws');
  const child = spawn(process.execPath, ['-e', serverSource], { env: { ...process.env, WS_PATH: wsPath, FRAMES_FILE: framesFile }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    stop: () => {
      child.kill();
      rmSync(framesFile, { force: true });
    },
  };
}

/** CPU time of this process in ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Baseline: raw ws + JSON.parse, one subscriber callback per document. */
async function rawRound(url: string): Promise<Round> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let docs = 0;
    let started = 0;
    let cpuStarted = 0;
    let subscriberSink = 0;
    const subscriber = (doc: { Type?: unknown }) => {
      if (doc.Type === 'Status') subscriberSink++;
    };
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { Data: { Type: string; Chat?: { Message?: string } } };
      if (frame.Data.Type === 'Self') {
        started = performance.now();
        cpuStarted = cpuMs();
        socket.send('go');
        return;
      }
      if (frame.Data.Type === 'Chat' && frame.Data.Chat?.Message === 'end') {
        const ms = performance.now() - started;
        const cpu = cpuMs() - cpuStarted;
        socket.close();
        resolve({ docs: docs + (subscriberSink & 0), ms, cpu });
        return;
      }
      docs++;
      subscriber(frame.Data);
    });
    socket.on('error', reject);
  });
}

/** The full pipeline: Channel → documents$ → one subscriber. */
async function channelRound(url: string): Promise<Round> {
  const channel = new Channel({ url, aliveIdleMs: 60_000, deadAfterMs: 120_000 });
  let docs = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    channel.documents$.subscribe((received) => {
      if (received.kind === 'Chat' && received.doc.Chat.Message === 'end') resolve();
      else if (received.kind !== 'Self') docs++;
    });
  });
  await channel.connect();
  started = performance.now();
  const cpuStarted = cpuMs();
  channel.send({ Type: 'Users' }); // the "go" signal; any frame does
  await done;
  const ms = performance.now() - started;
  const cpu = cpuMs() - cpuStarted;
  await channel.close();
  return { docs, ms, cpu };
}

interface Round {
  docs: number;
  /** Wall-clock time from "go" to the last document. */
  ms: number;
  /** CPU time this (client) process spent meanwhile. */
  cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the benchmark and writes bench/results/channel.json. */
export async function run(): Promise<{ summary: string; ratio: number }> {
  const frames = makeFrames(DOCS);
  const server = await startServer(frames);
  try {
    // Warm-up of both paths (JIT), not counted.
    await rawRound(server.url);
    await channelRound(server.url);
    const raw: number[] = [];
    const pipeline: number[] = [];
    const pairedRatios: number[] = [];
    const cpuRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that a drift in machine load hits both paths alike.
      const r = round % 2 ? await rawRound(server.url) : undefined;
      const c = await channelRound(server.url);
      const r2 = r ?? (await rawRound(server.url));
      if (r2.docs !== DOCS || c.docs !== DOCS) throw new Error(`lost documents: raw ${r2.docs}, channel ${c.docs} of ${DOCS}`);
      raw.push((r2.docs / r2.ms) * 1000);
      pipeline.push((c.docs / c.ms) * 1000);
      pairedRatios.push(r2.ms / c.ms);
      cpuRatios.push(r2.cpu / c.cpu);
    }
    const rawMedian = median(raw);
    const channelMedian = median(pipeline);
    // The ratio is the median of per-round (adjacent) ratios: robust against load from other processes.
    const ratio = median(pairedRatios);
    const cpuRatio = median(cpuRatios);
    const result = {
      name: 'channel',
      description: 'documents/s: socket → parse → validate → documents$ → subscriber, vs raw ws + JSON.parse',
      docsPerRound: DOCS,
      rounds: ROUNDS,
      mix: { Candidate: 0.5, Chat: 0.3, Status: 0.2 },
      rawDocsPerSecond: Math.round(rawMedian),
      channelDocsPerSecond: Math.round(channelMedian),
      ratio: Number(ratio.toFixed(3)),
      ratioOfMedians: Number((channelMedian / rawMedian).toFixed(3)),
      cpuRatio: Number(cpuRatio.toFixed(3)),
      target: TARGET,
      pass: ratio >= TARGET,
      samples: { raw: raw.map(Math.round), channel: pipeline.map(Math.round), pairedRatios: pairedRatios.map((x) => Number(x.toFixed(3))) },
      node: process.version,
      date: new Date().toISOString(),
    };
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'channel.json'), `${JSON.stringify(result, null, 2)}\n`);
    const summary = `${result.channelDocsPerSecond.toLocaleString('en')} docs/s vs raw ${result.rawDocsPerSecond.toLocaleString('en')} docs/s → ${result.ratio}× wall, ${result.cpuRatio}× CPU (target ≥ ${TARGET}×)`;
    console.log(`  ${summary}`);
    return { summary, ratio };
  } finally {
    server.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
