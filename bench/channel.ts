/**
 * Documents per second through the channel's full pipeline (socket → parse → validate →
 * documents$ → one subscriber) against a raw `ws` + `JSON.parse` baseline in the same run:
 * the same frames (a realistic mix of Candidate, Chat and Status documents), sent as fast as
 * possible in batches by a ws server in a worker thread, several rounds each, medians compared.
 * Writes bench/results/channel.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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
const { parentPort, workerData } = require('node:worker_threads');
const { WebSocketServer } = require(workerData.wsPath);
const frames = workerData.frames;
const self = JSON.stringify({ Data: { Type: 'Self', Id: 'bench', Sid: 's', Userid: '', Suserid: '', Token: 't', Version: 'bench', ApiVersion: 1.4, Turn: { username: '', password: '', ttl: 0, urls: null }, Stun: [] }, From: 'bench' });
const end = JSON.stringify({ Data: { To: '', Type: 'Chat', Chat: { Message: 'end', Status: null } }, From: 'bench' });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => parentPort.postMessage(wss.address().port));
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

async function startServer(frames: string[]): Promise<{ url: string; stop: () => Promise<number> }> {
  const { createRequire } = await import('node:module');
  const wsPath = createRequire(import.meta.url).resolve('ws');
  const worker = new Worker(serverSource, { eval: true, workerData: { frames, wsPath } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { url: `ws://127.0.0.1:${port}/ws`, stop: () => worker.terminate() };
}

/** Baseline: raw ws + JSON.parse, one subscriber callback per document. */
async function rawRound(url: string): Promise<{ docs: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let docs = 0;
    let started = 0;
    let subscriberSink = 0;
    const subscriber = (doc: { Type?: unknown }) => {
      if (doc.Type === 'Status') subscriberSink++;
    };
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { Data: { Type: string; Chat?: { Message?: string } } };
      if (frame.Data.Type === 'Self') {
        started = performance.now();
        socket.send('go');
        return;
      }
      if (frame.Data.Type === 'Chat' && frame.Data.Chat?.Message === 'end') {
        const ms = performance.now() - started;
        socket.close();
        resolve({ docs: docs + (subscriberSink & 0), ms });
        return;
      }
      docs++;
      subscriber(frame.Data);
    });
    socket.on('error', reject);
  });
}

/** The full pipeline: Channel → documents$ → one subscriber. */
async function channelRound(url: string): Promise<{ docs: number; ms: number }> {
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
  channel.send({ Type: 'Users' }); // the "go" signal; any frame does
  await done;
  const ms = performance.now() - started;
  await channel.close();
  return { docs, ms };
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
    for (let round = 0; round < ROUNDS; round++) {
      const r = await rawRound(server.url);
      const c = await channelRound(server.url);
      if (r.docs !== DOCS || c.docs !== DOCS) throw new Error(`lost documents: raw ${r.docs}, channel ${c.docs} of ${DOCS}`);
      raw.push((r.docs / r.ms) * 1000);
      pipeline.push((c.docs / c.ms) * 1000);
    }
    const rawMedian = median(raw);
    const channelMedian = median(pipeline);
    const ratio = channelMedian / rawMedian;
    const result = {
      name: 'channel',
      description: 'documents/s: socket → parse → validate → documents$ → subscriber, vs raw ws + JSON.parse',
      docsPerRound: DOCS,
      rounds: ROUNDS,
      mix: { Candidate: 0.5, Chat: 0.3, Status: 0.2 },
      rawDocsPerSecond: Math.round(rawMedian),
      channelDocsPerSecond: Math.round(channelMedian),
      ratio: Number(ratio.toFixed(3)),
      target: TARGET,
      pass: ratio >= TARGET,
      samples: { raw: raw.map(Math.round), channel: pipeline.map(Math.round) },
      node: process.version,
      date: new Date().toISOString(),
    };
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'channel.json'), `${JSON.stringify(result, null, 2)}\n`);
    const summary = `${result.channelDocsPerSecond.toLocaleString('en')} docs/s vs raw ${result.rawDocsPerSecond.toLocaleString('en')} docs/s → ${result.ratio}× (target ≥ ${TARGET}×)`;
    console.log(`  ${summary}`);
    return { summary, ratio };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
