import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvWatchInclude } from '@nats-io/kv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetClient, decodeJob, openFleetBus, readJobFile, type FleetBus, type JobState } from '../../src/fleet/index.js';
import { readSidecar, type Sidecar } from '../../src/media/index.js';
import { useBrowser, type TestPage } from '../helpers/browser.js';
import { noChromium, noFfmpeg, noNatsServer } from '../helpers/env.js';
import { probe } from '../helpers/ffprobe.js';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { startParticipants, startServerProcess, startWorkerProcess, type Child } from './processes.js';

const ROOMS = 6;
const t0 = Date.now();
const step = (what: string) => console.log(`[fleet e2e +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

/**
 * Issue 14 item 7 with real parts: nats-server with JetStream, three `spreed-bot worker`
 * processes, six recording jobs in Conference rooms with real media participants (werift peers
 * sending test patterns; one room also has the Chromium fixture page), SIGKILL of a worker that
 * runs two of them, then a NATS restart mid-run.
 */
describe.skipIf(noNatsServer || noFfmpeg || noChromium).sequential('fleet end to end: three worker processes, six recordings', () => {
  const browser = useBrowser();
  let nats: NatsServer;
  let server: { url: string; proc: Child };
  let dir: string;
  let client: FleetClient;
  let bus: FleetBus;
  const workers: { name: string; proc: Child }[] = [];
  let participants: Awaited<ReturnType<typeof startParticipants>> | undefined;
  let page: TestPage | undefined;
  let attempts = 0;
  const previousIds: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await startServerProcess();
    dir = await mkdtemp(join(tmpdir(), 'fleet-e2e-'));
    client = await FleetClient.connect({ nats: nats.url, reconnectForever: true });
    bus = await openFleetBus({ servers: nats.url, reconnectForever: true });
  }, 120_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const w of workers) console.log(`--- worker ${w.name} ---\n${w.proc.output().split('\n').slice(-60).join('\n')}`);
    // Whole outputs, for a closer look (FLEET_E2E_LOG_LEVEL=debug makes them detailed).
    const logs = await mkdtemp(join(tmpdir(), 'fleet-e2e-logs-'));
    for (const [name, proc] of [...workers.map((w) => [w.name, w.proc] as const), ['participants', participants?.proc] as const]) {
      if (proc) await writeFile(join(logs, `${name}.log`), proc.output());
    }
    console.log(`full outputs in ${logs}`);
  });

  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    participants?.proc.kill('SIGKILL');
    server?.proc.kill('SIGKILL');
    await client?.close();
    await bus?.close();
    await nats?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves the jobs of a killed worker within 10 s, survives a NATS restart, and every meeting completes', async () => {
    // A retry starts over with fresh workers, participants and job ids.
    const attempt = ++attempts;
    for (const w of workers.splice(0)) w.proc.kill('SIGKILL');
    participants?.proc.kill('SIGKILL');
    // ... and the previous attempt's jobs end (a stopped job is never restarted), so that its
    // recorders do not come back on this attempt's workers.
    for (const id of previousIds.splice(0)) await client.stop(id).catch(() => undefined);
    const names = [1, 2, 3].map((n) => `fw${attempt}-${n}`);
    workers.push(...(await Promise.all(names.map(async (name) => ({ name, proc: await startWorkerProcess(name, nats.url, dir, ['--capacity', '12']) })))));
    step('workers ready');
    const rooms = Array.from({ length: ROOMS }, (_, i) => `conference/fleet-e2e-${attempt}-${i}`);
    const recorderName = (i: number) => `Recorder ${i}`;

    // Participants (own process): a werift peer with a test pattern in every room, whose room state
    // counts the recorders present at once; the Chromium page joins the last room too.
    participants = await startParticipants(server.url, rooms);
    page = await browser().openPage(server.url, { name: 'Browser' });
    await page.t.join(rooms[ROOMS - 1]!);
    await page.t.startTalking(800);

    step('participants in the rooms');
    // Six recording jobs: a one-bot config file as `spreed-bot jobs submit` takes it, one per room.
    const file = join(dir, 'job.yaml');
    const options = `{ dir: ${join(dir, 'recordings')}, stopWhenEmptyMs: 20000 }`;
    await writeFile(file, `server: ${server.url}\nname: Recorder\nroom: ${rooms[0]}\nplugins:\n  - { name: record, options: ${options} }\n`);
    const template = await readJobFile(file);
    // Every write to the jobs bucket, seen live from before the submissions (the bucket keeps only
    // 64 revisions per job, a minute of heartbeats: the hand-over is gone from it by the end).
    const writes = new Map<string, JobState[]>();
    const watcher = await bus.jobs.watch({ include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const e of watcher) {
        const job = e.operation === 'PUT' ? decodeJob(e.value) : undefined;
        if (job) writes.set(job.id, [...(writes.get(job.id) ?? []), job]);
      }
    })();
    const ids: string[] = [];
    previousIds.push(...rooms.map((_, i) => `rec${attempt}-${i}`));
    for (const [i, room] of rooms.entries()) ids.push(await client.submit({ ...template, name: recorderName(i), room }, { id: `rec${attempt}-${i}` }));
    const jobs = async () => (await Promise.all(ids.map((id) => client.get(id)))) as JobState[];
    const sidecarOf = async (job: JobState): Promise<Sidecar | undefined> => (job.meetingDir ? readSidecar(join(job.meetingDir, 'meeting.json')).catch(() => undefined) : undefined);
    const recordingBytes = async (job: JobState) => {
      const sidecar = await sidecarOf(job);
      const sizes = await Promise.all((sidecar?.files ?? []).map((f) => stat(join(job.meetingDir!, f.file)).then((s) => s.size, () => 0)));
      return sizes.reduce((a, b) => a + b, 0);
    };

    step('jobs submitted');
    // Every job runs and writes media.
    await expect.poll(async () => (await jobs()).every((j) => j.status === 'running' && j.meetingDir), { timeout: 120_000, interval: 500 }).toBe(true);
    await expect.poll(async () => Math.min(...(await Promise.all((await jobs()).map(recordingBytes)))), { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
    step('all recording');
    const before = await jobs();
    const perWorker = new Map<string, string[]>();
    for (const j of before) perWorker.set(j.worker!, [...(perWorker.get(j.worker!) ?? []), j.id]);
    // Admission spreads: no worker is idle while another runs three.
    expect(perWorker.size).toBe(3);
    const [victimName, moved] = [...perWorker].find(([, list]) => list.length >= 2)!;
    const victim = workers.find((w) => w.name === victimName)!.proc;
    const movedBefore = before.filter((j) => moved.includes(j.id));

    // SIGKILL the worker that records two (or more) meetings: they continue elsewhere within 10 s.
    victim.kill('SIGKILL');
    await victim.exited;
    await expect
      .poll(async () => (await jobs()).filter((j) => moved.includes(j.id)).every((j) => j.status === 'running' && j.worker !== victimName), { timeout: 10_000, interval: 200 })
      .toBe(true);
    step('moved');
    // ... as the next segment of the same meeting: same directory, a gap in the sidecar, a second file.
    await expect
      .poll(
        async () => {
          const now = (await jobs()).filter((j) => moved.includes(j.id));
          const sidecars = await Promise.all(now.map(sidecarOf));
          return sidecars.every((s) => (s?.gaps?.length ?? 0) >= 1 && s!.files.some((f) => f.segment >= 2 && f.state === 'recording'));
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    for (const j of (await jobs()).filter((x) => moved.includes(x.id))) {
      expect(j.meetingDir).toBe(movedBefore.find((b) => b.id === j.id)!.meetingDir);
      expect(j.handovers).toBe(1);
    }

    step('continued as next segments');
    // NATS killed and restarted mid-run: workers and bots keep going and reconcile; nothing moves.
    const epochs = new Map((await jobs()).map((j) => [j.id, j.epoch]));
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    await nats.restart();
    await expect
      .poll(async () => (await jobs()).map((j) => (j.heartbeat ?? 0) > Date.now() - 3000), { timeout: 20_000, interval: 500 })
      .toEqual(new Array(ROOMS).fill(true));
    for (const j of await jobs()) expect(j.epoch, `job ${j.id} must not move because of the NATS restart`).toBe(epochs.get(j.id));

    step('NATS back, leases renewed');
    // The surviving workers' /metrics show the fleet figures.
    const registered = (await client.workers()).filter((w) => names.includes(w.name) && w.name !== victimName);
    const texts = await Promise.all(registered.map((w) => fetch(w.metricsUrl!).then((r) => r.text())));
    const all = texts.join('\n');
    expect(all).toMatch(/spreed_fleet_jobs_running\{worker="fw\d+-\d"\} [1-9]/);
    expect(all).toMatch(/spreed_fleet_capacity_used\{worker="fw\d+-\d"\} [1-9]/);
    const handedIn = [...all.matchAll(/spreed_fleet_handovers_total\{worker="fw\d+-\d",direction="in"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(handedIn).toBe(moved.length);
    expect(all).toContain('spreed_fleet_lease_losses_total');

    // The meetings end: participants leave, each recorder stops when its room is empty, jobs finish.
    await page.close();
    page = undefined;
    await participants.leave();
    await expect.poll(async () => (await jobs()).map((j) => j.status), { timeout: 120_000, interval: 500 }).toEqual(new Array(ROOMS).fill('finished'));

    step('all finished');
    // Never two recorders in a room at once (each participant's view of the room) ...
    expect(await participants.maxRecorders()).toEqual(new Array(ROOMS).fill(1));
    // ... nor two owners of a job at once in the jobs bucket: an owner change always passes through pending.
    watcher.stop();
    for (const id of ids) {
      const history = writes.get(id) ?? [];
      expect(history.filter((j) => j.status === 'pending').length, `${id}: submitted, and released once per hand-over`).toBe(moved.includes(id) ? 2 : 1);
      for (let k = 1; k < history.length; k++) {
        const [a, b] = [history[k - 1]!, history[k]!];
        if (a.status === 'running' && b.status === 'running') expect(`${b.worker}@${b.epoch}`).toBe(`${a.worker}@${a.epoch}`);
        expect(b.epoch).toBeGreaterThanOrEqual(a.epoch);
      }
      const segments = history.at(-1)!.segments;
      for (let k = 1; k < segments.length; k++) expect(segments[k]!.startedAt).toBeGreaterThanOrEqual(segments[k - 1]!.endedAt!);
    }

    // Every file plays; the moved meetings have a gap and the participant's next segment.
    for (const job of await jobs()) {
      const sidecar = (await sidecarOf(job))!;
      expect(sidecar.files.length).toBeGreaterThan(0);
      for (const f of sidecar.files.filter((x) => x.state !== 'failed')) {
        const media = await probe(join(job.meetingDir!, f.file));
        expect(media.duration, `${job.id}: ${f.file}`).toBeGreaterThan(0);
      }
      if (moved.includes(job.id)) {
        expect(sidecar.gaps).toHaveLength(1);
        expect(sidecar.gaps![0]!.reason).toContain(victimName);
        const participantFiles = sidecar.files.filter((f) => f.participantName === `P${job.id.split('-').at(-1)}` && f.state !== 'failed');
        expect(new Set(participantFiles.map((f) => f.segment)).size).toBeGreaterThanOrEqual(2);
      } else {
        expect(sidecar.gaps ?? []).toEqual([]);
      }
    }
    for (const w of workers.filter((x) => x.proc !== victim)) {
      w.proc.kill('SIGTERM');
      expect(await w.proc.exited, w.proc.output()).toBe(0);
    }
  }, 420_000);
});
