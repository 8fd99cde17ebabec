import { silentLogger, type Logger } from '../util/logger.js';
import { isRevisionConflict, type FleetBus } from './bus.js';
import { decodeJob, encode, finalStatuses, type JobState } from './job.js';

/** Options of a {@link LeaseReaper}. */
export interface LeaseReaperOptions {
  /** A running job whose lease was not renewed for this long (as seen here) is taken from its worker. @defaultValue 5000 */
  leaseMs?: number;
  /** A pending job unchanged this long is queued again (its queue message may be gone). @defaultValue 15000 */
  requeueMs?: number;
  /** Poll period. @defaultValue 500 */
  pollMs?: number;
  /** Name of the worker doing this (for the job's history). */
  worker: string;
  /** Called when this reaper released a job from a lost worker. */
  onReleased?: (job: JobState) => void;
  logger?: Logger;
}

interface Seen {
  revision: number;
  /** Local time (monotonic) when this revision was first seen. */
  since: number;
}

/**
 * Watches every job's lease. Staleness is judged by local observation — the revision did not change
 * for `leaseMs` while this process was connected and not stalled itself — so clocks of other
 * machines do not matter, and neither a NATS outage (when nobody can renew) nor an overloaded
 * machine (when every process stalls) counts. An expired job is released with compare-and-set
 * (exactly one reaper wins), marked as a hand-over and queued again for any worker with capacity.
 */
export class LeaseReaper {
  readonly #bus: FleetBus;
  readonly #options: LeaseReaperOptions;
  readonly #logger: Logger;
  readonly #seen = new Map<string, Seen>();
  readonly #final = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #lastPoll: number | undefined;

  constructor(bus: FleetBus, options: LeaseReaperOptions) {
    this.#bus = bus;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Starts polling. */
  start(): void {
    this.#timer ??= setInterval(() => void this.poll(), this.#options.pollMs ?? 500);
  }

  /** Forgets all observations: after a disconnect, staleness must be seen again from scratch. */
  reset(): void {
    this.#seen.clear();
  }

  /** Stops polling (idempotent). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass over the jobs (exposed for tests and benches). */
  async poll(): Promise<void> {
    if (this.#polling || this.#bus.nc.isClosed()) return;
    this.#polling = true;
    try {
      const now = performance.now();
      // This process itself was stalled (an overloaded machine, a paused VM): so may the owners
      // have been. Only windows in which this reaper ran smoothly count.
      const pollMs = this.#options.pollMs ?? 500;
      if (this.#lastPoll !== undefined && now - this.#lastPoll > 4 * pollMs + 1000) this.reset();
      this.#lastPoll = now;
      const keys: string[] = [];
      for await (const key of await this.#bus.jobs.keys()) if (!this.#final.has(key)) keys.push(key);
      for (const key of keys) {
        const entry = await this.#bus.jobs.get(key);
        const job = entry && entry.operation === 'PUT' ? decodeJob(entry.value) : undefined;
        if (!entry || !job) continue;
        // This worker's own jobs are alive as long as this process is: never release them here.
        if (job.worker === this.#options.worker && job.status === 'running') continue;
        if (finalStatuses.includes(job.status)) {
          this.#final.add(key);
          this.#seen.delete(key);
          continue;
        }
        const seen = this.#seen.get(key);
        if (!seen || seen.revision !== entry.revision) {
          this.#seen.set(key, { revision: entry.revision, since: now });
          continue;
        }
        const age = now - seen.since;
        if (job.status === 'running' && age >= (this.#options.leaseMs ?? 5000)) await this.#release(job, entry.revision, age);
        else if (job.status === 'pending' && age >= (this.#options.requeueMs ?? 15_000)) {
          await this.#bus.enqueue(job.id, job.cost, `${job.id}-${job.epoch}-r${entry.revision}`);
          seen.since = now;
        }
      }
    } catch (error) {
      // NATS unreachable or restarting: observations from before the outage are void.
      this.reset();
      this.#logger.debug({ reason: (error as Error).message }, 'lease check skipped');
    } finally {
      this.#polling = false;
    }
  }

  async #release(job: JobState, revision: number, age: number): Promise<void> {
    const lostAt = job.heartbeat ?? job.since ?? Date.now();
    const reason = `worker ${job.worker ?? '?'} lost (no lease renewal for ${(age / 1000).toFixed(1)} s)`;
    const segments = job.segments.map((s, i) => (i === job.segments.length - 1 && s.endedAt === undefined ? { ...s, endedAt: lostAt, end: 'lost' } : s));
    // Asked to stop before its worker died: it ends here, it is never started again.
    const stopped: JobState | undefined = job.stopRequested ? { ...job, status: 'stopped', worker: undefined, heartbeat: undefined, segments, endedAt: lostAt } : undefined;
    const next: JobState = stopped ?? {
      ...job,
      status: 'pending',
      worker: undefined,
      since: undefined,
      heartbeat: undefined,
      segments,
      handovers: job.handovers + 1,
      released: { worker: job.worker ?? '?', at: lostAt, reason },
    };
    try {
      await this.#bus.jobs.update(job.id, encode(next), revision);
    } catch (error) {
      if (isRevisionConflict(error)) return; // renewed just now, or another reaper won
      throw error;
    }
    this.#seen.delete(job.id);
    if (stopped) return void this.#logger.warn({ job: job.id, from: job.worker, by: this.#options.worker }, `${reason}: job was asked to stop; it ends stopped`);
    this.#logger.warn({ job: job.id, from: job.worker, by: this.#options.worker }, `${reason}: job released for hand-over`);
    await this.#bus.enqueue(job.id, job.cost, `${job.id}-${job.epoch}-released`);
    this.#options.onReleased?.(next);
  }
}
