import { Subscription } from 'rxjs';
import { Bot, type BotOptions } from '../bot/bot.js';
import type { Plugin } from '../bot/plugin.js';
import type { MeetingResume } from '../media/meeting-resume.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { JobState } from './job.js';
import { resolveJobBot } from './job-config.js';
import type { JobLease } from './lease.js';

/** How a job's run on this worker ended. */
export type JobOutcome = 'finished' | 'stopped' | 'failed' | 'handed-over' | 'lost';

/** Options of a {@link JobRunner}. */
export interface JobRunnerOptions {
  /** This worker's name. */
  worker: string;
  /** The held lease of the job. */
  lease: JobLease;
  /** Builds the bot (the worker tracks it for /metrics). @defaultValue `new Bot(options)` */
  createBot?: (options: BotOptions) => Bot;
  /** Stores a meeting directory when the job ends for good (`--store nats`); resolves with object names. */
  store?: (job: JobState, dir: string) => Promise<string[]>;
  /** Queues the job for another worker after this one released it (drain). */
  requeue: (job: JobState) => Promise<void>;
  /** A recording job whose recorder is idle in a room nobody else is in this long has finished. @defaultValue 30000 */
  emptyRoomMs?: number;
  /** Attempts to start the bot (channeling server down, ...) before the job fails. @defaultValue 3 */
  startAttempts?: number;
  logger?: Logger;
}

/** Provides the meeting to continue to the record plugin (set up before it). */
function resumePlugin(resume: MeetingResume): Plugin {
  return {
    name: 'fleet-resume',
    setup(ctx) {
      ctx.services.provide('meetingResume', resume);
      return () => ctx.services.remove('meetingResume');
    },
  };
}

/**
 * Runs one job's bot on this worker while it holds the job's lease: continues the meeting the
 * previous worker recorded, reports the meeting directory into the job, and ends the job when the
 * recording finished (the room emptied), on `jobs stop`, on a lost lease (at once), or hands it to
 * another worker on drain.
 */
export class JobRunner {
  readonly id: string;
  readonly cost: number;
  readonly #options: JobRunnerOptions;
  readonly #lease: JobLease;
  readonly #logger: Logger;
  readonly #subscriptions = new Subscription();
  #bot: Bot | undefined;
  #ending: Promise<JobOutcome> | undefined;
  #resolveEnded!: (outcome: JobOutcome) => void;
  /** Resolves with the outcome once the run is over and the job's state written. */
  readonly ended: Promise<JobOutcome> = new Promise((resolve) => (this.#resolveEnded = resolve));

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#lease = options.lease;
    this.id = options.lease.job.id;
    this.cost = options.lease.job.cost;
    this.#logger = (options.logger ?? silentLogger).child({ job: this.id });
  }

  /** The job's bot while it runs. */
  get bot(): Bot | undefined {
    return this.#bot;
  }

  /** The job as this worker last wrote it. */
  get job(): JobState {
    return this.#lease.job;
  }

  /** Starts the bot; a job that cannot start (bad definition, server unreachable after retries) ends `failed`. */
  async start(): Promise<void> {
    const job = this.#lease.job;
    this.#subscriptions.add(this.#lease.lost$.subscribe(() => void this.#end('lost')));
    this.#subscriptions.add(this.#lease.stopRequested$.subscribe(() => void this.#end('stopped')));
    let options: Omit<BotOptions, 'logger'>;
    try {
      options = await resolveJobBot(job.bot, `job ${job.id}`);
    } catch (error) {
      return void this.#end('failed', (error as Error).message);
    }
    const resume: MeetingResume | undefined =
      job.kind === 'record' && job.meetingDir
        ? { dir: job.meetingDir, gapFrom: job.released?.at ?? Date.now(), reason: job.released?.reason ?? 'hand-over' }
        : undefined;
    const plugins = [...(resume ? [resumePlugin(resume)] : []), ...(options.plugins ?? [])];
    const attempts = this.#options.startAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      if (this.#ending) return;
      const create = this.#options.createBot ?? ((o: BotOptions) => new Bot(o));
      // Like the supervisor: an unreachable channeling server is retried, not a failed job (a bad PIN still fails fast).
      const bot = create({ startTimeoutMs: Infinity, ...options, plugins, logger: this.#logger });
      this.#bot = bot;
      try {
        await bot.start();
        break;
      } catch (error) {
        await bot.stop().catch(() => undefined);
        if (attempt >= attempts) return void this.#end('failed', `bot could not start: ${(error as Error).message}`);
        this.#logger.warn({ attempt, reason: (error as Error).message }, 'job bot could not start; retrying');
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
    if (this.#ending) return void (await this.#bot?.stop());
    this.#logger.info({ resume: resume?.dir }, resume ? 'job running: continuing the meeting' : 'job running');
    this.#watch(this.#bot);
  }

  /** Renews the lease now (after a NATS reconnect: a lost lease stops the job at once). */
  renew(): Promise<unknown> {
    return this.#lease.renew();
  }

  /** Hands the job over to another worker (drain): the bot finalises, the job goes back to the queue. */
  handOver(): Promise<JobOutcome> {
    return this.#end('handed-over');
  }

  /** Ends the job here for good (the last worker drains, or the worker stops). */
  finish(): Promise<JobOutcome> {
    return this.#end('finished');
  }

  #watch(bot: Bot): void {
    const recorder = bot.services.get('recorder');
    if (recorder) {
      this.#subscriptions.add(
        recorder.state$.subscribe((state) => {
          if (state.status === 'recording' && state.dir !== this.#lease.job.meetingDir) void this.#lease.write((j) => ({ ...j, meetingDir: state.dir }));
        }),
      );
      // The recording ended by itself (room empty, no media, !record stop, max duration): the job is done.
      this.#subscriptions.add(recorder.finalized$.subscribe(() => void this.#end('finished')));
      let emptySince: number | undefined;
      const timer = setInterval(() => {
        const empty = recorder.state.status === 'idle' && bot.room.users.size === 0;
        emptySince = empty ? (emptySince ?? Date.now()) : undefined;
        if (emptySince !== undefined && Date.now() - emptySince >= (this.#options.emptyRoomMs ?? 30_000)) void this.#end('finished');
      }, 1000);
      this.#subscriptions.add(() => clearInterval(timer));
    }
    this.#subscriptions.add(
      bot.channel.state$.subscribe((state) => {
        if (state.status === 'closed') void this.#end('failed', `lost the channeling server: ${state.reason}`);
      }),
    );
  }

  #end(outcome: JobOutcome, error?: string): Promise<JobOutcome> {
    this.#ending ??= (async () => {
      const worker = this.#options.worker;
      const log = outcome === 'failed' || outcome === 'lost' ? this.#logger.warn.bind(this.#logger) : this.#logger.info.bind(this.#logger);
      log({ outcome, error }, 'job ending here');
      if (outcome === 'lost') {
        // Fencing: out of the room at once (the new owner joins it), then finalise what was recorded.
        try {
          if (this.#bot?.channel.state.status === 'joined') this.#bot.channel.leave();
        } catch {
          // the socket may be gone already
        }
      }
      await this.#bot?.stop().catch((e: unknown) => this.#logger.error({ err: e }, 'bot stop failed'));
      this.#subscriptions.unsubscribe();
      if (outcome === 'lost') {
        this.#lease.close();
        return outcome;
      }
      const at = Date.now();
      const endSegment = (j: JobState, end: string) =>
        j.segments.map((s, i) => (i === j.segments.length - 1 && s.worker === worker && s.endedAt === undefined ? { ...s, endedAt: at, end } : s));
      let final: JobState['status'] = outcome === 'handed-over' ? 'pending' : outcome;
      if (this.#lease.job.stopRequested) final = 'stopped';
      let stored: string[] | undefined;
      const dir = this.#lease.job.meetingDir;
      if (final !== 'pending' && dir && this.#options.store) {
        stored = await this.#options.store(this.#lease.job, dir).catch((e: Error) => {
          this.#logger.error({ dir, reason: e.message }, 'storing the recording failed; the files stay on this disk');
          return undefined;
        });
      }
      const written = await this.#lease.release((j) =>
        final === 'pending'
          ? { ...j, status: 'pending', worker: undefined, since: undefined, heartbeat: undefined, handovers: j.handovers + 1, segments: endSegment(j, 'drained'), released: { worker, at, reason: `worker ${worker} drained` } }
          : { ...j, status: j.stopRequested ? 'stopped' : final, endedAt: at, segments: endSegment(j, j.stopRequested ? 'stopped' : final), ...(error ? { error } : {}), ...(stored ? { stored } : {}) },
      );
      if (written === 'lost') return 'lost';
      if (written === 'written' && this.#lease.job.status === 'pending') await this.#options.requeue(this.#lease.job).catch(() => undefined);
      return final === 'pending' ? 'handed-over' : final;
    })().then((result) => {
      this.#resolveEnded(result);
      return result;
    });
    return this.#ending;
  }
}
