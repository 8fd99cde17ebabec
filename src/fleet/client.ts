import { randomBytes } from 'node:crypto';
import { FleetError, isRevisionConflict, openFleetBus, type FleetBus } from './bus.js';
import { decodeJob, decodeWorker, encode, finalStatuses, jobCost, jobIdPattern, type JobBot, type JobState, type WorkerInfo } from './job.js';
import { downloadMeeting } from './store.js';

/** Options of {@link FleetClient.connect}. */
export interface FleetClientOptions {
  /** NATS URL. @defaultValue `'nats://127.0.0.1:4222'` */
  nats?: string;
  /**
   * Keep reconnecting for as long as the client lives (services, chat plugins) instead of giving up
   * after about a second without NATS (one-shot commands like `spreed-bot jobs`). @defaultValue false
   */
  reconnectForever?: boolean;
}

/** What to submit. */
export interface SubmitOptions {
  /** The job id. @defaultValue a random `j-…` id */
  id?: string;
  /** Streams a recording is expected to have (its admission cost). @defaultValue 4 */
  expectedStreams?: number;
}

/** Result of {@link FleetClient.stop}. */
export type StopResult = 'stopped' | 'stopping' | 'already-ended';

/** NATS answers nothing to requests made while its client reconnects (e.g. just after a restart): a timeout. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.message === 'timeout');
}

/** Runs an idempotent NATS operation, again after a timeout (twice at most). */
async function retryOnTimeout<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTimeout(error) || attempt >= 2) throw error;
    }
  }
}

/** A new random job id. */
export function newJobId(): string {
  return `j-${randomBytes(6).toString('base64url')}`;
}

/**
 * Typed client of the fleet: submit, list, stop and fetch jobs. Used by `spreed-bot jobs`, the
 * `!record` chat plugin and user code.
 *
 * @example
 * ```ts
 * const fleet = await FleetClient.connect({ nats: 'nats://127.0.0.1:4222' });
 * const id = await fleet.submit({ name: 'Recorder', server: 'ws://127.0.0.1:8080/ws', room: 'conference/x', plugins: ['record'] });
 * console.log(await fleet.get(id));
 * await fleet.close();
 * ```
 */
export class FleetClient {
  private constructor(private readonly bus: FleetBus) {}

  /** Connects to NATS (and sets up the fleet's stream and buckets when missing). */
  static async connect(options: FleetClientOptions = {}): Promise<FleetClient> {
    return new FleetClient(
      await openFleetBus({ servers: options.nats ?? 'nats://127.0.0.1:4222', name: 'spreed-bot jobs', reconnectForever: options.reconnectForever ?? false }),
    );
  }

  /** Wraps an open bus (workers and plugins that have one). */
  static over(bus: FleetBus): FleetClient {
    return new FleetClient(bus);
  }

  /**
   * Submits a job: stores it `pending` and queues it for the workers. Resolves with its id.
   * The bot definition is validated by the worker with the `run` config schema; validate it before
   * with `readJobFile()` to fail early.
   */
  async submit(bot: JobBot, options: SubmitOptions = {}): Promise<string> {
    const id = options.id ?? newJobId();
    if (!jobIdPattern.test(id)) throw new FleetError('job_invalid', `job id '${id}' must be 1–64 letters, digits, '_' or '-'`);
    const { kind, cost } = jobCost(bot, options.expectedStreams);
    const state: JobState = { id, kind, cost, bot, status: 'pending', submittedAt: Date.now(), epoch: 0, segments: [], handovers: 0 };
    await retryOnTimeout(async () => {
      try {
        await this.bus.jobs.create(id, encode(state));
      } catch (error) {
        // A create that timed out may have been stored: then the job found is this one.
        if (isRevisionConflict(error) && (await this.get(id))?.submittedAt === state.submittedAt) return;
        if (isRevisionConflict(error)) throw new FleetError('job_invalid', `a job with id '${id}' exists already`, { cause: error });
        throw error;
      }
    });
    // Queuing again after a timeout is harmless: the stream drops a repeated message id.
    await retryOnTimeout(() => this.bus.enqueue(id, cost, `${id}-0`));
    return id;
  }

  /** A job's state, or undefined when there is no such job. */
  async get(id: string): Promise<JobState | undefined> {
    const entry = await retryOnTimeout(() => this.bus.jobs.get(id));
    return entry && entry.operation === 'PUT' ? decodeJob(entry.value) : undefined;
  }

  /** Every job, oldest first. */
  async list(): Promise<JobState[]> {
    const jobs: JobState[] = [];
    for await (const key of await retryOnTimeout(() => this.bus.jobs.keys())) {
      const job = await this.get(key);
      if (job) jobs.push(job);
    }
    return jobs.sort((a, b) => a.submittedAt - b.submittedAt);
  }

  /** Registered workers (a registration disappears a minute after its worker is gone). */
  async workers(): Promise<WorkerInfo[]> {
    const out: WorkerInfo[] = [];
    for await (const key of await retryOnTimeout(() => this.bus.workers.keys())) {
      const entry = await retryOnTimeout(() => this.bus.workers.get(key));
      const info = entry && entry.operation === 'PUT' ? decodeWorker(entry.value) : undefined;
      if (info) out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Stops a job for good: a pending job is ended at once (`stopped`); a running one is asked to
   * stop, and its worker finalises the recording and ends it `stopped`. Never restarted.
   */
  async stop(id: string): Promise<StopResult> {
    for (;;) {
      const entry = await retryOnTimeout(() => this.bus.jobs.get(id));
      const job = entry && entry.operation === 'PUT' ? decodeJob(entry.value) : undefined;
      if (!entry || !job) throw new FleetError('job_not_found', `no job '${id}' (see 'spreed-bot jobs list')`);
      if (finalStatuses.includes(job.status)) return 'already-ended';
      const next: JobState =
        job.status === 'pending' ? { ...job, status: 'stopped', endedAt: Date.now(), stopRequested: true } : { ...job, stopRequested: true };
      try {
        await this.bus.jobs.update(id, encode(next), entry.revision);
        return next.status === 'stopped' ? 'stopped' : 'stopping';
      } catch (error) {
        // A timed-out update is read again like a conflict: it was stored or it was not.
        if (!isRevisionConflict(error) && !isTimeout(error)) throw error;
        // A worker renewed its lease in between: read again and retry.
      }
    }
  }

  /** Waits until a job reaches a final status (or `timeoutMs` passes) and returns its state. */
  async waitForEnd(id: string, timeoutMs = 60_000): Promise<JobState | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.get(id);
      if (!job || finalStatuses.includes(job.status) || Date.now() > end) return job;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Downloads a job's stored meeting files (`--store nats` workers) into `dir`, byte-exact (the
   * object store checks each object's SHA-256). Resolves with the written paths.
   */
  async fetch(id: string, dir: string): Promise<string[]> {
    const job = await this.get(id);
    if (!job) throw new FleetError('job_not_found', `no job '${id}' (see 'spreed-bot jobs list')`);
    if (!job.stored?.length) throw new FleetError('job_not_found', `job '${id}' has no stored files (status ${job.status}; workers store files with --store nats when a job ends)`);
    return downloadMeeting(await this.bus.recordings(), job.stored, dir);
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.bus.close();
  }
}
