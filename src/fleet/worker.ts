import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { Bot, BotOptions } from '../bot/bot.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { isRevisionConflict, openFleetBus, type FleetBus } from './bus.js';
import { decodeJob, decodeWorker, encode, type JobState, type WorkerInfo } from './job.js';
import { JobRunner, type JobOutcome } from './job-runner.js';
import { JobLease } from './lease.js';
import { LeaseReaper } from './reaper.js';
import { uploadMeeting } from './store.js';

/** Options of a {@link FleetWorker}. */
export interface FleetWorkerOptions {
  /** NATS URL(s). */
  nats: string | string[];
  /** Worker name, unique in the fleet. @defaultValue `<hostname>-<pid>` */
  name?: string;
  /** Capacity in cost units: a recording costs its expected streams (4 by default), a plain bot 1. @defaultValue 40 */
  capacity?: number;
  /** Where finished recordings go besides this disk: `'nats'` puts them into the fleet's object store. @defaultValue `'local'` */
  store?: 'local' | 'nats';
  /** Lease renewal and registration period. @defaultValue 1000 */
  heartbeatMs?: number;
  /** A job whose lease was not renewed this long is taken over. @defaultValue 5000 */
  leaseMs?: number;
  /**
   * Spreading: before taking the next job a worker waits `spreadMs × load/capacity`, so idle
   * workers get jobs first instead of one worker filling up. @defaultValue 1000
   */
  spreadMs?: number;
  /** A recording job whose recorder is idle in an empty room this long has finished. @defaultValue 30000 */
  emptyRoomMs?: number;
  /** Builds each job's bot (the CLI tracks bots for /metrics). @defaultValue `new Bot(options)` */
  createBot?: (options: BotOptions) => Bot;
  /** Shown in the worker's registration (`jobs list`). */
  metricsUrl?: string;
  logger?: Logger;
}

/** Counters of one worker, for /metrics. */
export interface WorkerCounters {
  /** Jobs this worker continued after another worker died or drained. */
  handoversIn: number;
  /** Jobs this worker handed to others when draining. */
  handoversOut: number;
  /** Jobs this worker lost because another worker owns them now (stopped at once). */
  leaseLosses: number;
  /** Jobs that ended here, by outcome. */
  ended: Record<JobOutcome, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fleet worker: takes jobs from the JetStream work queue while their cost fits its capacity,
 * runs each job's bot under a lease (KV compare-and-set, renewed every second), takes over jobs of
 * workers that died, and on {@link drain} hands its jobs to the others. Keeps running through NATS
 * outages and reconciles when the connection is back.
 *
 * @example
 * ```ts
 * const worker = await FleetWorker.start({ nats: 'nats://127.0.0.1:4222', capacity: 12 });
 * process.once('SIGTERM', () => void worker.drain().then(() => process.exit(0)));
 * ```
 */
export class FleetWorker {
  readonly name: string;
  readonly capacity: number;
  readonly counters: WorkerCounters = {
    handoversIn: 0,
    handoversOut: 0,
    leaseLosses: 0,
    ended: { finished: 0, stopped: 0, failed: 0, 'handed-over': 0, lost: 0 },
  };
  readonly #bus: FleetBus;
  readonly #options: FleetWorkerOptions;
  readonly #logger: Logger;
  readonly #runners = new Map<string, JobRunner>();
  readonly #reaper: LeaseReaper;
  readonly #startedAt = Date.now();
  #draining = false;
  #closed = false;
  #pulling: Promise<void> = Promise.resolve();
  #registration: NodeJS.Timeout | undefined;
  #drain: Promise<void> | undefined;

  private constructor(bus: FleetBus, options: FleetWorkerOptions) {
    this.#bus = bus;
    this.#options = options;
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    this.capacity = options.capacity ?? 40;
    this.#logger = (options.logger ?? silentLogger).child({ worker: this.name });
    this.#reaper = new LeaseReaper(bus, { worker: this.name, leaseMs: options.leaseMs, logger: this.#logger });
  }

  /** Connects, registers and starts taking jobs. */
  static async start(options: FleetWorkerOptions): Promise<FleetWorker> {
    const bus = await openFleetBus({ servers: options.nats, name: `spreed-bot worker ${options.name ?? ''}`.trim(), reconnectForever: true });
    const worker = new FleetWorker(bus, options);
    await worker.#register();
    worker.#registration = setInterval(() => void worker.#register(), options.heartbeatMs ?? 1000);
    void worker.#watchConnection();
    worker.#reaper.start();
    worker.#pulling = worker.#pullLoop();
    worker.#logger.info({ capacity: worker.capacity, store: options.store ?? 'local' }, 'fleet worker started');
    return worker;
  }

  /** Cost units in use by running jobs. */
  get load(): number {
    let load = 0;
    for (const runner of this.#runners.values()) load += runner.cost;
    return load;
  }

  /** Jobs running here. */
  get runners(): JobRunner[] {
    return [...this.#runners.values()];
  }

  /** True once {@link drain} began. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops taking jobs and hands every running job to another live worker (the same hand-over as
   * after a crash, without waiting for the lease to expire); when no other worker is left, the
   * jobs are finished here. Then deregisters and disconnects. Idempotent.
   */
  drain(): Promise<void> {
    this.#drain ??= (async () => {
      this.#draining = true;
      this.#logger.info({ jobs: this.#runners.size }, 'draining: no new jobs');
      await this.#pulling;
      this.#reaper.stop();
      await this.#register().catch(() => undefined);
      const others = (await this.#liveWorkers()).filter((w) => w.name !== this.name && !w.draining);
      await Promise.all(
        this.runners.map(async (runner) => {
          const outcome = others.length > 0 ? await runner.handOver() : await runner.finish();
          this.#logger.info({ job: runner.id, outcome }, 'job left this worker');
        }),
      );
      await this.#close(true);
    })();
    return this.#drain;
  }

  /** Disconnects without handing jobs over (tests; the leases expire and others take over). */
  async close(): Promise<void> {
    this.#draining = true;
    await this.#pulling;
    await Promise.all(this.runners.map((r) => r.bot?.stop()));
    await this.#close(false);
  }

  async #close(deregister: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#registration);
    this.#reaper.stop();
    if (deregister) await this.#bus.workers.delete(this.name).catch(() => undefined);
    await this.#bus.close();
    this.#logger.info('fleet worker stopped');
  }

  async #liveWorkers(): Promise<WorkerInfo[]> {
    const out: WorkerInfo[] = [];
    const fresh = Date.now() - 3 * (this.#options.heartbeatMs ?? 1000) - 2000;
    for await (const key of await this.#bus.workers.keys()) {
      const entry = await this.#bus.workers.get(key);
      const info = entry && entry.operation === 'PUT' ? decodeWorker(entry.value) : undefined;
      if (info && info.heartbeat >= fresh) out.push(info);
    }
    return out;
  }

  async #register(): Promise<void> {
    if (this.#closed) return;
    const info: WorkerInfo = {
      name: this.name,
      capacity: this.capacity,
      load: this.load,
      jobs: [...this.#runners.keys()],
      draining: this.#draining,
      heartbeat: Date.now(),
      startedAt: this.#startedAt,
      pid: process.pid,
      host: hostname(),
      metricsUrl: this.#options.metricsUrl,
    };
    await this.#bus.workers.put(this.name, encode(info)).catch(() => undefined);
  }

  /** NATS went away and came back: leases are renewed at once (a lost one stops its job), lease observations restart. */
  async #watchConnection(): Promise<void> {
    for await (const status of this.#bus.nc.status()) {
      if (status.type === 'disconnect') {
        this.#reaper.reset();
        this.#logger.warn('NATS disconnected: jobs keep running, reconnecting');
      } else if (status.type === 'reconnect') {
        this.#reaper.reset();
        this.#logger.info('NATS reconnected: reconciling leases');
        for (const runner of this.#runners.values()) void runner.renew();
        void this.#register();
      }
    }
  }

  async #pullLoop(): Promise<void> {
    let consumer: Awaited<ReturnType<FleetBus['consumer']>> | undefined;
    while (!this.#draining) {
      if (this.load + 1 > this.capacity) {
        await sleep(250);
        continue;
      }
      const spread = ((this.#options.spreadMs ?? 1000) * this.load) / this.capacity;
      if (spread > 0) await sleep(spread);
      let msg: JsMsg | null = null;
      try {
        consumer ??= await this.#bus.consumer();
        msg = await consumer.next({ expires: 1000 });
      } catch (error) {
        this.#logger.debug({ reason: (error as Error).message }, 'cannot pull jobs now; retrying');
        consumer = undefined;
        await sleep(500);
        continue;
      }
      if (!msg) continue;
      if (this.#draining) {
        msg.nak();
        break;
      }
      const cost = Number(msg.headers?.get('Spreed-Job-Cost')) || 1;
      if (this.load + cost > this.capacity) {
        msg.nak(1000); // does not fit here; another worker (or this one later) takes it
        await sleep(250);
        continue;
      }
      await this.#claim(msg.string(), msg).catch((error: Error) => {
        this.#logger.warn({ reason: error.message }, 'claiming a job failed; it stays queued');
        msg.nak(500);
      });
    }
  }

  /** Takes a queued job: compare-and-set from `pending` to running here; anything else is a stale queue entry. */
  async #claim(id: string, msg: JsMsg): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.#bus.jobs.get(id);
      const job = entry && entry.operation === 'PUT' ? decodeJob(entry.value) : undefined;
      if (!entry || !job || job.status !== 'pending') {
        msg.ack(); // ended, running elsewhere, or not a job: nothing to do
        return;
      }
      const now = Date.now();
      if (job.stopRequested) {
        // Stopped while waiting for a worker: it ends without running again.
        try {
          await this.#bus.jobs.update(id, encode({ ...job, status: 'stopped', endedAt: now } satisfies JobState), entry.revision);
        } catch (error) {
          if (isRevisionConflict(error)) continue;
          throw error;
        }
        msg.ack();
        return;
      }
      const epoch = job.epoch + 1;
      const next: JobState = {
        ...job,
        status: 'running',
        worker: this.name,
        epoch,
        since: now,
        heartbeat: now,
        segments: [...job.segments, { worker: this.name, epoch, startedAt: now }],
      };
      let revision: number;
      try {
        revision = await this.#bus.jobs.update(id, encode(next), entry.revision);
      } catch (error) {
        if (isRevisionConflict(error)) continue;
        throw error;
      }
      msg.ack();
      if (job.handovers > 0) this.counters.handoversIn++;
      this.#run(new JobLease(this.#bus.jobs, this.name, next, revision, { heartbeatMs: this.#options.heartbeatMs, logger: this.#logger }));
      return;
    }
    msg.nak(500);
  }

  #run(lease: JobLease): void {
    const runner = new JobRunner({
      worker: this.name,
      lease,
      createBot: this.#options.createBot,
      emptyRoomMs: this.#options.emptyRoomMs,
      logger: this.#logger,
      requeue: (job) => this.#bus.enqueue(job.id, job.cost, `${job.id}-${job.epoch}-drained`),
      store: this.#options.store === 'nats' ? async (job, dir) => uploadMeeting(await this.#bus.recordings(), job.id, dir) : undefined,
    });
    this.#runners.set(runner.id, runner);
    this.#logger.info({ job: runner.id, handovers: lease.job.handovers, cost: runner.cost, load: this.load }, 'job taken');
    void runner.ended.then((outcome) => {
      this.#runners.delete(runner.id);
      this.counters.ended[outcome]++;
      if (outcome === 'lost') this.counters.leaseLosses++;
      if (outcome === 'handed-over') this.counters.handoversOut++;
      void this.#register();
    });
    void runner.start().catch((error: Error) => this.#logger.error({ job: runner.id, err: error }, 'job run failed'));
  }
}
