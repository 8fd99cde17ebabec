import { z } from 'zod';

/**
 * One bot definition as stored with a job: the single-bot form of a `spreed-bot run` config file
 * (`server`, `name`, `room`, `pin`, `status`, `plugins`, `module`), validated again by the worker
 * with the same schema before it runs.
 */
export type JobBot = Record<string, unknown> & { name: string; server?: string; room?: string; plugins?: unknown[] };

/** What kind of work a job is; decides its default cost. */
export type JobKind = 'record' | 'bot';

/** Where a job is in its life. `finished`, `stopped` and `failed` are final: such a job never runs again. */
export type JobStatus = 'pending' | 'running' | 'finished' | 'stopped' | 'failed';

/** Final statuses. */
export const finalStatuses: readonly JobStatus[] = ['finished', 'stopped', 'failed'];

const segmentSchema = z.object({
  worker: z.string(),
  epoch: z.number().int(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  /** Why this worker's run ended (`finished`, `drained`, `lost: …`, `stopped`). */
  end: z.string().optional(),
});

/** zod schema of a job's state in the jobs KV bucket (values from the bus are validated, never trusted). */
export const jobStateSchema = z.object({
  id: z.string(),
  kind: z.enum(['record', 'bot']),
  /** Admission cost: a recording costs its expected streams, a plain bot 1. */
  cost: z.number().positive(),
  bot: z.record(z.unknown()).and(z.object({ name: z.string() })),
  status: z.enum(['pending', 'running', 'finished', 'stopped', 'failed']),
  submittedAt: z.number(),
  /** Incremented on every assignment to a worker; a worker's lease is (worker, epoch). */
  epoch: z.number().int().nonnegative(),
  worker: z.string().optional(),
  /** When the current worker took the job (Unix ms). */
  since: z.number().optional(),
  /** The current worker's last lease renewal (Unix ms, its clock). */
  heartbeat: z.number().optional(),
  /** Set by `jobs stop`: the worker stops the bot and the job ends `stopped`. */
  stopRequested: z.boolean().optional(),
  /** The recording's meeting directory, continued by the next worker after a hand-over. */
  meetingDir: z.string().optional(),
  /** One entry per worker run. */
  segments: z.array(segmentSchema),
  /** How often the job moved to another worker. */
  handovers: z.number().int().nonnegative(),
  /** Why the job last left a worker, and when that worker was last known to run it. */
  released: z.object({ worker: z.string(), at: z.number(), reason: z.string() }).optional(),
  error: z.string().optional(),
  endedAt: z.number().optional(),
  /** Files uploaded to the object store (`--store nats`): object names. */
  stored: z.array(z.string()).optional(),
});

/** A job's state as kept in the jobs KV bucket. */
export type JobState = z.infer<typeof jobStateSchema>;
/** One worker run of a job. */
export type JobSegment = z.infer<typeof segmentSchema>;

/** zod schema of a worker's registration in the workers KV bucket. */
export const workerInfoSchema = z.object({
  name: z.string(),
  capacity: z.number(),
  load: z.number(),
  jobs: z.array(z.string()),
  draining: z.boolean(),
  heartbeat: z.number(),
  startedAt: z.number(),
  pid: z.number().optional(),
  host: z.string().optional(),
  metricsUrl: z.string().optional(),
});

/** A worker's registration. */
export type WorkerInfo = z.infer<typeof workerInfoSchema>;

/** Default expected streams of a recording job (two participants with audio and video). */
export const defaultRecordStreams = 4;

/** True when the bot definition uses the `record` plugin. Pure. */
export function recordsMeetings(bot: JobBot): boolean {
  return (bot.plugins ?? []).some((p) => p === 'record' || (typeof p === 'object' && p !== null && (p as { name?: unknown }).name === 'record'));
}

/** Kind and admission cost of a bot definition. Pure. @defaultValue expectedStreams {@link defaultRecordStreams} */
export function jobCost(bot: JobBot, expectedStreams?: number): { kind: JobKind; cost: number } {
  if (recordsMeetings(bot)) return { kind: 'record', cost: expectedStreams ?? defaultRecordStreams };
  return { kind: 'bot', cost: 1 };
}

/** Job ids are KV keys and subject tokens: letters, digits, `_` and `-`. */
export const jobIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Decodes a value from the bus with `schema`; undefined (never a throw) for anything else. */
function decodeWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, bytes: Uint8Array): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a job state from the jobs bucket; undefined for data that is not one. */
export const decodeJob = (bytes: Uint8Array): JobState | undefined => decodeWith(jobStateSchema, bytes);
/** Decodes a worker registration; undefined for data that is not one. */
export const decodeWorker = (bytes: Uint8Array): WorkerInfo | undefined => decodeWith(workerInfoSchema, bytes);

/** Encodes a value for the bus. */
export function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
