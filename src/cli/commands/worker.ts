import { Bot } from '../../bot/bot.js';
import { FleetWorker } from '../../fleet/worker.js';
import { registerWorkerMetrics } from '../../fleet/worker-metrics.js';
import { startHealthServer, type HealthServer } from '../../service/health.js';
import { BotMetrics } from '../../service/metrics.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';
import { ShutdownSignals } from '../signals.js';

export const workerHelp = `Usage: spreed-bot worker --nats URL [--capacity N] [--name W] [--store nats] [--metrics-port N]

Runs jobs of the recording and bot fleet (see 'spreed-bot jobs'). Jobs wait in a NATS JetStream
work queue; this worker takes one while its cost fits the capacity (a recording costs its
expected streams, 4 by default; a plain bot 1), holds it with a lease renewed every second, and
takes over jobs of workers that died (within 10 s, continuing the same meeting directory as the
next segment). SIGTERM/SIGINT drain: no new jobs, running jobs move to other workers (or finish
here when this is the last one), exit 0. When NATS cannot be reached for 20 s the worker
finalises its jobs' recordings itself and exits 1 (their leases expire and another worker
continues them); a second signal stops at once.

Options:
  --nats URL          NATS server with JetStream (default $SPREED_NATS or nats://127.0.0.1:4222)
  --capacity N        capacity in cost units (default 40)
  --name W            worker name, unique in the fleet (default <hostname>-<pid>)
  --store nats        also put each finished meeting's files into the fleet's object store
                      ('spreed-bot jobs fetch <id> <dir>' gets them back); default: local disk only
  --metrics-port N    serve /healthz and /metrics (jobs running, capacity used, hand-overs,
                      lease losses, and every bot's metrics) on 127.0.0.1:N (0 picks a free port)
  -h, --help          show this help

Recording jobs write to the record plugin's dir: give all workers the same shared directory
(same path) so a meeting continues in one folder, or use --store nats.`;

function positiveInt(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** `spreed-bot worker`. */
export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    nats: { type: 'string' },
    capacity: { type: 'string' },
    name: { type: 'string' },
    store: { type: 'string' },
    'metrics-port': { type: 'string' },
  });
  if (values.help) {
    console.log(workerHelp);
    return 0;
  }
  const store = str(values, 'store') ?? 'local';
  if (store !== 'local' && store !== 'nats') throw new UsageError(`--store must be 'nats' (or 'local'), got '${store}'`);
  const capacity = positiveInt(str(values, 'capacity'), '--capacity', 1);
  const metricsPort = positiveInt(str(values, 'metrics-port'), '--metrics-port', 0);
  const nats = str(values, 'nats') ?? process.env.SPREED_NATS ?? 'nats://127.0.0.1:4222';
  const signals = new ShutdownSignals();
  const logger = createLogger({ name: 'worker' });
  const metrics = new BotMetrics();
  let worker: FleetWorker | undefined;
  registerWorkerMetrics(metrics.registry, () => worker);
  let health: HealthServer | undefined;
  if (metricsPort !== undefined) {
    health = await startHealthServer({ port: metricsPort, metrics, bots: () => worker?.runners.flatMap((r) => (r.bot ? [r.bot] : [])) ?? [] });
    logger.info({ url: `${health.url}/metrics` }, 'metrics');
  }
  worker = await FleetWorker.start({
    nats,
    name: str(values, 'name'),
    capacity,
    store,
    logger,
    metricsUrl: health && `${health.url}/metrics`,
    createBot: (options) => {
      const bot = new Bot(options);
      metrics.track(bot);
      return bot;
    },
  });
  console.log(`spreed-bot worker ${worker.name} ready (capacity ${worker.capacity}, NATS ${nats})`);
  signals.onRepeat(() => {
    logger.warn('second signal: stopping at once');
    process.exit(1);
  });
  const signal = await signals.first;
  logger.info({ signal }, 'draining');
  const drained = await bounded(worker.drain(), DRAIN_DEADLINE_MS);
  if (!drained) {
    // NATS is unreachable (or too slow) to hand the jobs over: finalise their recordings here and
    // leave; their leases expire and another worker continues each meeting when NATS is back.
    logger.warn({ afterMs: DRAIN_DEADLINE_MS }, 'drain could not reach NATS; stopping the jobs here (their leases expire, another worker continues them)');
    await Promise.all(worker.runners.map((r) => r.bot?.stop()));
  }
  await health?.close();
  signals.dispose();
  return drained ? 0 : 1;
}

/** How long a drain may wait for NATS before the worker finalises its jobs itself and exits. */
const DRAIN_DEADLINE_MS = 20_000;

/** True when `work` settled within `ms`; a rejection counts as not drained. */
async function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => false), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
