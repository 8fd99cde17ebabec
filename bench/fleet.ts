/**
 * Fleet bench (`npm run bench -- fleet`), real parts: nats-server with JetStream, the CLI's
 * channeling server, `spreed-bot worker` processes and werift participants sending test patterns.
 *
 * - hand-over over ≥ 10 SIGKILLs of the worker recording a meeting: kill → another worker holds
 *   the job (its KV `since`), and kill → the next worker's new segment starts (from meeting.json),
 *   median and max (target max ≤ 10 s); a kill after which no segment started within 60 s (the
 *   new recorder's call failed) is counted in `notContinued`;
 * - submit → recorder joined the room (seen by a participant), median over the submits;
 * - recorded RTP packets per second with 1 vs 2 worker processes for the same rooms (the baseline
 *   is the 1-worker run of this same bench run), and the loss in each.
 *
 * Writes bench/results/fleet.json. `FLEET_BENCH_KILLS` (default 10) and `FLEET_BENCH_ROOMS`
 * (default 6) scale it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetClient, type JobBot, type JobState } from '../src/fleet/index.js';
import { readSidecar } from '../src/media/index.js';
import { startNatsServer } from '../test/fleet/nats-server.js';
import { startParticipants, startServerProcess, startWorkerProcess, type Child } from '../test/fleet/processes.js';

const here = import.meta.dirname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function recorder(server: string, room: string, name: string, dir: string): JobBot {
  return { name, server, room, plugins: [{ name: 'record', options: { dir, stopWhenEmptyMs: 60_000 } }] };
}

/** Sums a metric's samples over every worker's /metrics. */
async function metricSum(client: FleetClient, metric: string): Promise<number> {
  let sum = 0;
  for (const w of await client.workers()) {
    const text = await fetch(w.metricsUrl!).then((r) => r.text(), () => '');
    for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'gm'))) sum += Number(m[1]);
  }
  return sum;
}

export async function run(): Promise<{ summary: string }> {
  const kills = Number(process.env.FLEET_BENCH_KILLS ?? 10);
  const roomCount = Number(process.env.FLEET_BENCH_ROOMS ?? 6);
  const nats = await startNatsServer();
  const server = await startServerProcess();
  const dir = await mkdtemp(join(tmpdir(), 'fleet-bench-'));
  const client = await FleetClient.connect({ nats: nats.url });
  const children: Child[] = [server.proc];
  const worker = async (name: string) => {
    const proc = await startWorkerProcess(name, nats.url, dir);
    children.push(proc);
    return proc;
  };
  try {
    // ---- hand-over gap: one meeting, its recording worker SIGKILLed again and again.
    const handRoom = 'conference/bench-handover';
    const handPeople = await startParticipants(server.url, [handRoom]);
    children.push(handPeople.proc);
    const byName = new Map<string, Child>();
    let next = 0;
    while (next < 2) byName.set(`hw-${next}`, await worker(`hw-${next++}`));
    const id = await client.submit(recorder(server.url, handRoom, 'Recorder 0', join(dir, 'handover')), { id: 'bench-handover' });
    const job = () => client.get(id) as Promise<JobState>;
    let current = await until(job, (j) => j.status === 'running' && !!j.meetingDir, 60_000, 'the recording to start');
    const gaps: number[] = [];
    /** Kill → another worker holds the job (KV `since`). */
    const takeovers: number[] = [];
    let notContinued = 0;
    for (let k = 0; k < kills; k++) {
      const segmentsBefore = (await readSidecar(join(current.meetingDir!, 'meeting.json'))).files.length;
      const victim = byName.get(current.worker!)!;
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      byName.delete(current.worker!);
      const spare = `hw-${next++}`;
      void worker(spare).then((p) => byName.set(spare, p));
      // The job moves (claimed by another worker) ...
      const moved = await until(job, (j) => j.status === 'running' && j.worker !== current.worker, 60_000, `the job to move after kill ${k + 1}`);
      takeovers.push(moved.since! - killedAt);
      // ... and the meeting continues when the new recorder's call carries media (a call that fails counts, not throws).
      const sidecar = await until(
        () => readSidecar(join(current.meetingDir!, 'meeting.json')).catch(() => undefined),
        (s) => !!s && s.files.length > segmentsBefore && s.files.slice(segmentsBefore).some((f) => f.startedAt > killedAt),
        60_000,
        `the meeting to continue after kill ${k + 1}`,
      ).catch(() => undefined);
      if (!sidecar) {
        notContinued++;
        console.log(`  kill ${k + 1}/${kills}: taken over after ${(takeovers.at(-1)! / 1000).toFixed(2)} s, but no new segment within 60 s`);
      } else {
        const resumedAt = Math.min(...sidecar.files.slice(segmentsBefore).filter((f) => f.startedAt > killedAt).map((f) => f.startedAt));
        gaps.push(resumedAt - killedAt);
        console.log(`  kill ${k + 1}/${kills}: taken over after ${(takeovers.at(-1)! / 1000).toFixed(2)} s, continued after ${((resumedAt - killedAt) / 1000).toFixed(2)} s`);
      }
      current = await until(job, (j) => j.status === 'running' && byName.has(j.worker!), 60_000, 'a live owner');
      await sleep(1500);
    }
    await client.stop(id);
    await handPeople.leave();
    for (const p of byName.values()) p.kill('SIGTERM');

    // ---- submit → joined, and recorded packets with 1 vs 2 workers.
    const throughput: Record<string, { packetsPerSecond: number; lostPercent: number; streams: number; recordingsStarted: number; rooms: number }> = {};
    const joinLatencies: number[] = [];
    for (const workers of [1, 2]) {
      const rooms = Array.from({ length: roomCount }, (_, i) => `conference/bench-${workers}w-${i}`);
      const people = await startParticipants(server.url, rooms);
      children.push(people.proc);
      const procs = await Promise.all(Array.from({ length: workers }, (_, i) => worker(`tw${workers}-${i}`)));
      const submittedAt: number[] = [];
      const ids: string[] = [];
      for (const [i, room] of rooms.entries()) {
        submittedAt[i] = Date.now();
        ids.push(await client.submit(recorder(server.url, room, `Recorder ${i}`, join(dir, `tp-${workers}`)), { id: `bench-${workers}w-${i}` }));
      }
      for (const [i] of rooms.entries()) {
        const m = await people.proc.waitFor(new RegExp(`"recorderJoined":${i},"at":(\\d+)`), 120_000);
        joinLatencies.push(Number(m[1]) - submittedAt[i]!);
      }
      // A recorder whose call failed never starts: measured as fewer streams, not a thrown bench.
      const started = await until(() => Promise.all(ids.map((x) => client.get(x))), (js) => js.every((j) => !!j?.meetingDir), 120_000, 'every recording').catch(
        async () => Promise.all(ids.map((x) => client.get(x))),
      );
      await sleep(3000);
      const [r0, l0, t0] = [await metricSum(client, 'spreed_bot_rtp_packets_received'), await metricSum(client, 'spreed_bot_rtp_packets_lost'), Date.now()];
      await sleep(10_000);
      const [r1, l1, t1] = [await metricSum(client, 'spreed_bot_rtp_packets_received'), await metricSum(client, 'spreed_bot_rtp_packets_lost'), Date.now()];
      const recordings = started.filter((j) => !!j?.meetingDir).length;
      throughput[`workers${workers}`] = {
        packetsPerSecond: ((r1 - r0) * 1000) / (t1 - t0),
        lostPercent: (100 * (l1 - l0)) / Math.max(1, r1 - r0 + l1 - l0),
        streams: recordings * 2,
        recordingsStarted: recordings,
        rooms: ids.length,
      };
      for (const x of ids) await client.stop(x);
      await people.leave();
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
    }
    const ratio = throughput.workers2!.packetsPerSecond / throughput.workers1!.packetsPerSecond;
    const result = {
      at: new Date().toISOString(),
      node: process.version,
      handover: {
        kills: takeovers.length,
        takeoverMedianMs: median(takeovers),
        takeoverMaxMs: Math.max(...takeovers),
        medianMs: median(gaps),
        maxMs: Math.max(...gaps),
        gapsMs: gaps,
        notContinued,
        targetMaxMs: 10_000,
      },
      submitToJoined: { medianMs: median(joinLatencies), maxMs: Math.max(...joinLatencies), samples: joinLatencies.length },
      throughput: { ...throughput, ratio2to1: ratio, baseline: 'workers1 (same run)', target: '≥ 1.7× with 2 workers, no loss' },
    };
    await mkdir(join(here, 'results'), { recursive: true });
    await writeFile(join(here, 'results', 'fleet.json'), JSON.stringify(result, null, 2));
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return {
      summary:
        `hand-over over ${takeovers.length} kills: taken over median ${s(result.handover.takeoverMedianMs)}, max ${s(result.handover.takeoverMaxMs)}; ` +
        `media again median ${s(result.handover.medianMs)}, max ${s(result.handover.maxMs)} (target ≤ 10 s; ${notContinued} not continued); ` +
        `submit→joined median ${s(result.submitToJoined.medianMs)}; ` +
        `${roomCount * 2} streams: 2 workers ${ratio.toFixed(2)}× the packets/s of 1 (loss ${throughput.workers1!.lostPercent.toFixed(2)} % → ${throughput.workers2!.lostPercent.toFixed(2)} %)`,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await client.close();
    await nats.close();
    await rm(dir, { recursive: true, force: true });
  }
}
