import type { KV } from '@nats-io/kv';
import { Subject, type Observable } from 'rxjs';
import { silentLogger, type Logger } from '../util/logger.js';
import { isRevisionConflict } from './bus.js';
import { decodeJob, encode, type JobState } from './job.js';

/** Options of a {@link JobLease}. */
export interface JobLeaseOptions {
  /** Renewal period. @defaultValue 1000 */
  heartbeatMs?: number;
  logger?: Logger;
}

/** Outcome of a lease write. */
export type LeaseWrite = 'written' | 'lost' | 'unreachable';

/**
 * A worker's hold on one running job: the job's KV entry at a known revision. Every write is a
 * compare-and-set on that revision, so a worker whose job was taken over (its lease expired, for
 * example behind a partition) can never write again and learns at once that it lost the job
 * (fencing). Changes made by others that keep this worker the owner (a stop request) are adopted.
 */
export class JobLease {
  readonly #kv: KV;
  readonly #worker: string;
  readonly #logger: Logger;
  readonly #lost = new Subject<string>();
  readonly #stopRequested = new Subject<void>();
  #job: JobState;
  #revision: number;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #lostReason: string | undefined;
  /** Unix ms of the last successful renewal. */
  lastRenewedAt = Date.now();

  /** Emits once, with the reason, when another worker owns the job now: stop at once. */
  readonly lost$: Observable<string> = this.#lost.asObservable();
  /** Emits once when `jobs stop` asked this job to stop. */
  readonly stopRequested$: Observable<void> = this.#stopRequested.asObservable();

  constructor(kv: KV, worker: string, job: JobState, revision: number, options: JobLeaseOptions = {}) {
    this.#kv = kv;
    this.#worker = worker;
    this.#job = job;
    this.#revision = revision;
    this.#logger = (options.logger ?? silentLogger).child({ job: job.id });
    const heartbeatMs = options.heartbeatMs ?? 1000;
    this.#timer = setInterval(() => void this.renew(), heartbeatMs);
  }

  /** The job as last written or adopted. */
  get job(): JobState {
    return this.#job;
  }

  /** True until the lease was lost or closed. */
  get held(): boolean {
    return !this.#closed && this.#lostReason === undefined;
  }

  /** Renews the lease (heartbeat) now. */
  renew(): Promise<LeaseWrite> {
    return this.write((job) => ({ ...job, heartbeat: Date.now() }));
  }

  /**
   * Writes `change(job)` with compare-and-set, adopting changes by others that leave this worker
   * the owner. Writes are serialised. `unreachable` means NATS did not answer: the lease is still
   * held, try again later.
   */
  write(change: (job: JobState) => JobState): Promise<LeaseWrite> {
    const run = this.#queue.then(() => this.#write(change));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Writes `change` and gives the lease up (final status or hand-over); retries while NATS is unreachable, up to `timeoutMs`. */
  async release(change: (job: JobState) => JobState, timeoutMs = 60_000): Promise<LeaseWrite> {
    clearInterval(this.#timer);
    const end = Date.now() + timeoutMs;
    let result: LeaseWrite;
    do {
      result = await this.write(change);
      if (result === 'unreachable') await new Promise((r) => setTimeout(r, 500));
    } while (result === 'unreachable' && Date.now() < end);
    this.close();
    return result;
  }

  /** Stops renewing (idempotent). */
  close(): void {
    clearInterval(this.#timer);
    this.#closed = true;
    this.#lost.complete();
    this.#stopRequested.complete();
  }

  #owns(job: JobState): boolean {
    return job.status === 'running' && job.worker === this.#worker && job.epoch === this.#job.epoch;
  }

  async #write(change: (job: JobState) => JobState): Promise<LeaseWrite> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.#lostReason !== undefined) return 'lost';
      const next = change(this.#job);
      try {
        this.#revision = await this.#kv.update(this.#job.id, encode(next), this.#revision);
        this.#job = next;
        this.lastRenewedAt = Date.now();
        return 'written';
      } catch (error) {
        if (!isRevisionConflict(error)) {
          this.#logger.debug({ reason: (error as Error).message }, 'lease write failed; NATS unreachable, will retry');
          return 'unreachable';
        }
      }
      // Someone else wrote the job: still ours (a stop request), or taken over?
      let current: JobState | undefined;
      let revision = 0;
      try {
        const entry = await this.#kv.get(this.#job.id);
        current = entry && entry.operation === 'PUT' ? decodeJob(entry.value) : undefined;
        revision = entry?.revision ?? 0;
      } catch {
        return 'unreachable';
      }
      if (!current || !this.#owns(current)) {
        this.#lose(current ? `job is ${current.status}${current.worker ? ` on ${current.worker} (epoch ${current.epoch})` : ''}` : 'job was deleted');
        return 'lost';
      }
      const askedToStop = current.stopRequested && !this.#job.stopRequested;
      this.#job = current;
      this.#revision = revision;
      if (askedToStop) this.#stopRequested.next();
    }
    return 'unreachable';
  }

  #lose(reason: string): void {
    if (this.#lostReason !== undefined) return;
    this.#lostReason = reason;
    clearInterval(this.#timer);
    this.#logger.warn({ reason }, 'lease lost: another worker owns this job now; stopping it here');
    this.#lost.next(reason);
  }
}
