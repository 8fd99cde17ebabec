import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bot, commands, frames, ofType } from '../../src/index.js';
import type { Channel } from '../../src/channel/index.js';
import { FleetClient, FleetWorker, downloadMeeting, fleetRecordCommand, openFleetBus, encode, uploadMeeting, type JobState } from '../../src/fleet/index.js';
import { startServer, type ChannelingServer } from '../../src/server/index.js';
import { noNatsServer } from '../helpers/env.js';
import { participant } from '../helpers/peers.js';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { spawnCli } from './processes.js';

/** Display names of the room's members as the watcher sees them (Joined/Left/Status). */
function roomNames(watcher: Channel): () => string[] {
  const members = new Map<string, string>();
  watcher.documents$.pipe(ofType('Joined', 'Status', 'Left')).subscribe((r) => {
    if (r.kind === 'Left') members.delete(r.from);
    else {
      const name = (r.doc.Status as { displayName?: string } | null | undefined)?.displayName;
      if (name) members.set(r.from, name);
    }
  });
  return () => [...members.values()].sort();
}

describe.skipIf(noNatsServer).sequential('fleet workers (nats-server, embedded channeling server)', () => {
  let nats: NatsServer;
  let server: ChannelingServer;
  let client: FleetClient;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await startServer({ host: '127.0.0.1', port: 0 });
    client = await FleetClient.connect({ nats: nats.url, reconnectForever: true });
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.close();
  });

  async function worker(name: string, capacity: number, extra: Partial<Parameters<typeof FleetWorker.start>[0]> = {}): Promise<FleetWorker> {
    const w = await FleetWorker.start({ nats: nats.url, name, capacity, heartbeatMs: 500, leaseMs: 2000, spreadMs: 300, ...extra });
    cleanup.push(() => w.close());
    return w;
  }

  async function watch(room: string): Promise<() => string[]> {
    const watcher = await participant(server.url, room, 'Watcher');
    cleanup.push(() => watcher.close());
    return roomNames(watcher);
  }

  it('runs a submitted bot in its room, lists it with its worker, and stops it for good', async () => {
    const room = `fleet-basic-${Date.now()}`;
    const names = await watch(room);
    const w1 = await worker('basic-1', 10);
    const id = await client.submit({ name: 'Fleet Bot', server: server.url, room, plugins: ['commands'] });
    await expect.poll(names, { timeout: 15_000 }).toContain('Fleet Bot');
    const job = await client.get(id);
    expect(job).toMatchObject({ status: 'running', worker: 'basic-1', kind: 'bot', cost: 1, epoch: 1 });
    expect((await client.list()).map((j) => j.id)).toContain(id);
    expect(w1.load).toBe(1);
    expect(await client.stop(id)).toBe('stopping');
    await expect.poll(async () => (await client.get(id))?.status, { timeout: 15_000 }).toBe('stopped');
    await expect.poll(names, { timeout: 10_000 }).not.toContain('Fleet Bot');
    expect(w1.load).toBe(0);
    expect(await client.stop(id)).toBe('already-ended');
    // Never restarted: still stopped after more than a lease period.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await client.get(id))?.status).toBe('stopped');
    expect(names()).not.toContain('Fleet Bot');
  }, 60_000);

  it('admits a job only while its cost fits: recordings spread over workers, the third waits', async () => {
    const room = `fleet-admission-${Date.now()}`;
    const a = await worker('adm-a', 4);
    const b = await worker('adm-b', 4);
    const bot = (name: string) => ({ name, server: server.url, room, plugins: ['record'] });
    const ids = [await client.submit(bot('Rec 1')), await client.submit(bot('Rec 2')), await client.submit(bot('Rec 3'))];
    await expect.poll(async () => (await Promise.all(ids.map((id) => client.get(id)))).filter((j) => j?.status === 'running').length, { timeout: 15_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 1500));
    const jobs = (await Promise.all(ids.map((id) => client.get(id)))) as JobState[];
    expect(jobs.filter((j) => j.status === 'running').map((j) => j.worker).sort()).toEqual(['adm-a', 'adm-b']);
    expect(jobs.filter((j) => j.status === 'pending')).toHaveLength(1);
    expect([a.load, b.load]).toEqual([4, 4]);
    for (const id of ids) await client.stop(id);
    await expect.poll(async () => (await Promise.all(ids.map((id) => client.get(id)))).every((j) => j?.status === 'stopped'), { timeout: 20_000 }).toBe(true);
  }, 60_000);

  it('a worker that stops renewing loses the job to another worker, which takes it over', async () => {
    const room = `fleet-takeover-${Date.now()}`;
    const names = await watch(room);
    const first = await worker('take-1', 10);
    const id = await client.submit({ name: 'Mover', server: server.url, room, plugins: ['commands'] });
    await expect.poll(async () => (await client.get(id))?.worker, { timeout: 15_000 }).toBe('take-1');
    const second = await worker('take-2', 10);
    await first.close(); // no hand-over: the lease simply stops being renewed
    await expect.poll(async () => (await client.get(id))?.worker, { timeout: 15_000 }).toBe('take-2');
    const job = (await client.get(id))!;
    expect(job).toMatchObject({ status: 'running', epoch: 2, handovers: 1 });
    expect(job.released?.reason).toMatch(/worker take-1 lost/);
    expect(job.segments.map((s) => s.worker)).toEqual(['take-1', 'take-2']);
    expect(second.counters.handoversIn).toBe(1);
    await expect.poll(names, { timeout: 15_000 }).toEqual(['Mover']);
    await client.stop(id);
  }, 60_000);

  it('a job asked to stop whose worker died before stopping it ends stopped and never runs again', async () => {
    const room = `fleet-stop-dead-${Date.now()}`;
    const names = await watch(room);
    const first = await worker('stopdead-1', 10);
    const id = await client.submit({ name: 'Doomed', server: server.url, room, plugins: ['commands'] });
    await expect.poll(async () => (await client.get(id))?.worker, { timeout: 15_000 }).toBe('stopdead-1');
    await worker('stopdead-2', 10);
    await first.close(); // dies without renewing or reading the stop request
    expect(await client.stop(id)).toBe('stopping');
    await expect.poll(async () => (await client.get(id))?.status, { timeout: 15_000 }).toBe('stopped');
    // Longer than a lease and a requeue period: nobody took it.
    await new Promise((r) => setTimeout(r, 4000));
    const job = (await client.get(id))!;
    expect(job).toMatchObject({ status: 'stopped', epoch: 1 });
    expect(job.segments.map((s) => s.worker)).toEqual(['stopdead-1']);
    expect(names()).not.toContain('Doomed');
  }, 60_000);

  it('fencing: a worker whose job was taken (compare-and-set by another owner) stops its bot at once', async () => {
    const room = `fleet-fence-${Date.now()}`;
    const names = await watch(room);
    const w = await worker('fence-1', 10);
    const id = await client.submit({ name: 'Fenced', server: server.url, room, plugins: ['commands'] });
    await expect.poll(names, { timeout: 15_000 }).toContain('Fenced');
    // Another owner takes the job behind this worker's back (as after a partition).
    const bus = await openFleetBus({ servers: nats.url });
    cleanup.push(() => bus.close());
    for (;;) {
      const entry = (await bus.jobs.get(id))!;
      const job = JSON.parse(new TextDecoder().decode(entry.value)) as JobState;
      try {
        await bus.jobs.update(id, encode({ ...job, worker: 'intruder', epoch: job.epoch + 1 }), entry.revision);
        break;
      } catch {
        // renewed in between; try again
      }
    }
    await expect.poll(() => w.counters.leaseLosses, { timeout: 10_000 }).toBe(1);
    await expect.poll(names, { timeout: 10_000 }).not.toContain('Fenced');
    // The loser never writes again: the job stays with the intruder.
    expect((await client.get(id))?.worker).toBe('intruder');
  }, 60_000);

  it('drain hands running jobs to another worker and deregisters', async () => {
    const room = `fleet-drain-${Date.now()}`;
    const names = await watch(room);
    const a = await worker('drain-a', 10);
    const id = await client.submit({ name: 'Drained', server: server.url, room, plugins: ['commands'] });
    await expect.poll(async () => (await client.get(id))?.worker, { timeout: 15_000 }).toBe('drain-a');
    await worker('drain-b', 10);
    await a.drain();
    expect(a.counters.handoversOut).toBe(1);
    await expect.poll(async () => (await client.get(id))?.worker, { timeout: 15_000 }).toBe('drain-b');
    expect((await client.get(id))?.released?.reason).toBe('worker drain-a drained');
    expect((await client.workers()).map((w) => w.name)).not.toContain('drain-a');
    await expect.poll(names, { timeout: 10_000 }).toEqual(['Drained']);
    await client.stop(id);
  }, 60_000);

  it('jobs fetch gets a stored meeting back byte-exact; object names leaving the target are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-store-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const meeting = join(dir, 'meeting');
    await mkdir(meeting);
    const files = { 'Alice.webm': randomBytes(300_000), 'Alice.2.webm': randomBytes(70_001), 'meeting.json': Buffer.from('{"version":1}') };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(meeting, name), bytes);
    await writeFile(join(meeting, '.meeting.json.1.tmp'), 'temp files are not stored');
    const bus = await openFleetBus({ servers: nats.url });
    cleanup.push(() => bus.close());
    const id = await client.submit({ name: 'Stored', server: server.url, room: 'nobody-here', plugins: ['commands'] });
    await client.stop(id);
    const stored = await uploadMeeting(await bus.recordings(), id, meeting);
    expect(stored.sort()).toEqual(Object.keys(files).map((f) => `${id}/${f}`).sort());
    const entry = (await bus.jobs.get(id))!;
    const job = JSON.parse(new TextDecoder().decode(entry.value)) as JobState;
    await bus.jobs.update(id, encode({ ...job, stored }), entry.revision);

    const out = join(dir, 'fetched');
    const cli = spawnCli(['jobs', 'fetch', id, out, '--nats', nats.url]);
    expect(await cli.exited, cli.output()).toBe(0);
    for (const [name, bytes] of Object.entries(files)) expect((await readFile(join(out, name))).equals(bytes), name).toBe(true);
    await expect(downloadMeeting(await bus.recordings(), [`${id}/../../escape`], out)).rejects.toThrow(/leaves/);
  }, 120_000);

  it('!record in a room submits a recording job for that room; !record stop ends it', async () => {
    const room = `fleet-chat-${Date.now()}`;
    const watcher = await participant(server.url, room, 'Alice');
    cleanup.push(() => watcher.close());
    const names = roomNames(watcher);
    const replies: string[] = [];
    watcher.documents$.pipe(ofType('Chat')).subscribe((r) => {
      if (r.doc.Chat.Message) replies.push(r.doc.Chat.Message);
    });
    await worker('chat-w', 10);
    const desk = new Bot({ server: server.url, room, name: 'Desk', plugins: [commands(), fleetRecordCommand({ nats: nats.url, server: server.url, job: { name: 'Fleet Recorder' } })] });
    await desk.start();
    cleanup.push(() => desk.stop());
    watcher.send(frames.chat('', { Message: '!record', NoEcho: true }));
    await expect.poll(() => replies.find((r) => r.startsWith('recording job')), { timeout: 15_000 }).toBeDefined();
    const id = replies.find((r) => r.startsWith('recording job'))!.match(/j-[\w-]+/)![0];
    expect(await client.get(id)).toMatchObject({ kind: 'record', bot: { room, name: 'Fleet Recorder', server: server.url } });
    await expect.poll(names, { timeout: 15_000 }).toContain('Fleet Recorder');
    watcher.send(frames.chat('', { Message: '!record stop', NoEcho: true }));
    await expect.poll(async () => (await client.get(id))?.status, { timeout: 20_000 }).toBe('stopped');
    await expect.poll(names, { timeout: 10_000 }).not.toContain('Fleet Recorder');

    // NATS restarts (down for 2 s, longer than a one-shot client waits): the plugin's client rides
    // it out and the next !record still submits a job (it used to fail until the bot restarted).
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    await nats.restart();
    replies.length = 0;
    watcher.send(frames.chat('', { Message: '!record', NoEcho: true }));
    await expect.poll(() => replies.find((r) => r.startsWith('recording job')) ?? replies.join(' | '), { timeout: 30_000 }).toMatch(/^recording job/);
    const again = replies.find((r) => r.startsWith('recording job'))!.match(/j-[\w-]+/)![0];
    expect(again).not.toBe(id);
    watcher.send(frames.chat('', { Message: '!record stop', NoEcho: true }));
    await expect.poll(async () => (await client.get(again))?.status, { timeout: 30_000 }).toBe('stopped');
  }, 120_000);
});
