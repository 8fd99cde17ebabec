/**
 * Peer-layer benchmark: offer → connected latency bot ↔ bot on loopback (median of N), against
 * a raw werift baseline measured in the same run, and how many simultaneous idle calls one
 * process holds (ramp until setup fails, or the time/memory cap).
 *
 * Run: `npx tsx bench/peer.ts` → bench/results/peer.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { RTCPeerConnection, useOPUS, useVP8 } from 'werift';
import { CallManager, answerPolicy, type Signaling } from '../src/peer/index.js';
import { parseEnvelopeObject, type OutgoingFrame, type Received } from '../src/protocol/index.js';

/** Minimal in-process signalling: routes unicasts like the server, asynchronously. */
class LocalHub {
  private readonly peers = new Map<string, Subject<Received>>();
  join(id: string): Signaling {
    const incoming = new Subject<Received>();
    this.peers.set(id, incoming);
    return {
      id,
      documents$: incoming.asObservable(),
      iceServers: () => [],
      send: (frame: OutgoingFrame) => {
        const inner = (frame as Record<string, unknown>)[frame.Type] as { To?: string } | undefined;
        const target = inner?.To !== undefined ? this.peers.get(inner.To) : undefined;
        if (!target) return;
        const parsed = parseEnvelopeObject(JSON.parse(JSON.stringify({ Data: inner, From: id, To: inner!.To })));
        if (parsed.ok) setImmediate(() => target.next(parsed.value));
      },
    };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

async function rawWeriftConnect(): Promise<number> {
  const config = () => ({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    codecs: { audio: [useOPUS()], video: [useVP8()] },
  });
  const a = new RTCPeerConnection(config());
  const b = new RTCPeerConnection(config());
  const start = performance.now();
  a.createDataChannel('default', { ordered: true });
  a.addTransceiver('audio', { direction: 'sendrecv' });
  a.addTransceiver('video', { direction: 'recvonly' });
  const connected = new Promise<void>((resolve) => a.connectionStateChange.subscribe((s) => s === 'connected' && resolve()));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await connected;
  const ms = performance.now() - start;
  await Promise.all([a.close(), b.close()]);
  return ms;
}

async function managerConnect(hub: LocalHub, n: number): Promise<number> {
  const caller = new CallManager({ signaling: hub.join(`caller${n}`) });
  const callee = new CallManager({ signaling: hub.join(`callee${n}`), answer: answerPolicy({ kind: 'everyone' }) });
  const start = performance.now();
  await caller.call(`callee${n}`).waitFor('connected', 20_000);
  const ms = performance.now() - start;
  caller.close();
  callee.close();
  return ms;
}

export interface PeerBenchResult {
  machine: { node: string; cpus: number; platform: string };
  latency: { n: number; medianMs: number; minMs: number; maxMs: number; baselineRawWeriftMedianMs: number };
  capacity: {
    idleCalls: number;
    stoppedBecause: string;
    seconds: number;
    rssMb: number;
    rssPerCallMb: number;
    note: string;
  };
}

export async function run(options: { n?: number; capSeconds?: number; rssCapMb?: number; batch?: number } = {}): Promise<PeerBenchResult> {
  const n = options.n ?? 20;
  const hub = new LocalHub();

  // Warm-up (certificate generation, JIT) for both paths.
  await rawWeriftConnect();
  await managerConnect(hub, -1);

  const baseline: number[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    baseline.push(await rawWeriftConnect());
    latencies.push(await managerConnect(hub, i));
  }

  // Capacity: one bot answers everyone; callers ramp up in batches and stay idle.
  const capSeconds = options.capSeconds ?? 100;
  const rssCapMb = options.rssCapMb ?? 2500;
  const batch = options.batch ?? 10;
  const bot = new CallManager({ signaling: hub.join('BOT'), answer: answerPolicy({ kind: 'everyone' }), autoConference: false });
  const callers: CallManager[] = [];
  const started = performance.now();
  let stoppedBecause = 'time cap';
  let held = 0;
  const rssBefore = process.memoryUsage().rss;
  for (;;) {
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > capSeconds) break;
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    if (rssMb > rssCapMb) {
      stoppedBecause = `memory cap ${rssCapMb} MB`;
      break;
    }
    const wave = Array.from({ length: batch }, (_, i) => {
      const m = new CallManager({ signaling: hub.join(`cap${held + i}`) });
      callers.push(m);
      return m.call('BOT').waitFor('connected', 15_000);
    });
    const results = await Promise.allSettled(wave);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    held += ok;
    if (ok < batch) {
      const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      stoppedBecause = `setup failed: ${String(failure?.reason).slice(0, 120)}`;
      break;
    }
    const stillUp = [...bot.calls.values()].filter((c) => c.state.status === 'connected').length;
    if (stillUp < held) {
      stoppedBecause = `idle calls dropped (${stillUp}/${held} still connected)`;
      held = stillUp;
      break;
    }
    process.stdout.write(`\r${held} idle calls, ${Math.round(rssMb)} MB RSS, ${Math.round(elapsed)} s   `);
  }
  process.stdout.write('\n');
  const seconds = (performance.now() - started) / 1000;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  bot.close();
  for (const c of callers) c.close();

  const { cpus, platform } = await import('node:os');
  return {
    machine: { node: process.version, cpus: cpus().length, platform: platform() },
    latency: {
      n,
      medianMs: round(median(latencies)),
      minMs: round(Math.min(...latencies)),
      maxMs: round(Math.max(...latencies)),
      baselineRawWeriftMedianMs: round(median(baseline)),
    },
    capacity: {
      idleCalls: held,
      stoppedBecause,
      seconds: round(seconds),
      rssMb: Math.round(rssMb),
      rssPerCallMb: held ? round((rssMb - rssBefore / 2 ** 20) / held) : 0,
      note: 'both ends of every call live in this one process (bot + callers), so a bot alone holds more; loopback, no media',
    },
  };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const result = await run();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'peer.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
