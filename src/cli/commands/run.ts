import { Bot } from '../../bot/bot.js';
import { startHealthServer, type HealthServer } from '../../service/health.js';
import { BotMetrics } from '../../service/metrics.js';
import { BotSupervisor } from '../../service/supervisor.js';
import { ConfigError, loadRunConfig } from '../../bot/config.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';
import { DownloadProgress } from '../download-progress.js';
import { waitForSignal } from '../signals.js';

export const runHelp = `Usage: spreed-bot run <bot module or config file> [options]

Runs one or more bots as a long-lived service. The target is a bot module (.ts/.js whose
default export is defineBot({...})) or a config file (.json/.yaml/.yml) with one bot or a
'bots' list. SIGINT/SIGTERM stop gracefully (recordings and transfers are finalised);
a second signal forces the stop.

Options (override the file and the SPREED_SERVER/SPREED_ROOM/SPREED_PIN/SPREED_NAME environment):
  --server URL   channeling server WebSocket URL, e.g. ws://127.0.0.1:8080/ws
  --room NAME    room to join
  --pin PIN      room PIN (never logged)
  --name NAME    bot display name
  -h, --help     show this help

Logs are JSON lines when stdout is not a terminal (LOG_LEVEL sets the level). When stderr is a
terminal, files that collectFiles downloads get a progress bar there.
Exit codes: 0 after a graceful stop, 1 on a fatal error, 2 on bad usage or configuration.`;

/** `spreed-bot run`. */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    server: { type: 'string' },
    room: { type: 'string' },
    pin: { type: 'string' },
    name: { type: 'string' },
  });
  if (values.help) {
    console.log(runHelp);
    return 0;
  }
  const target = positionals[0];
  if (!target) throw new UsageError('missing <bot module or config file>');
  let config;
  try {
    config = await loadRunConfig(target, { server: str(values, 'server'), room: str(values, 'room'), pin: str(values, 'pin'), name: str(values, 'name') });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`spreed-bot: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: 'spreed-bot' });
  // Listen for signals before anything starts, so an early SIGTERM still stops gracefully.
  const stopSignal = waitForSignal(() => {
    logger.warn('second signal: forcing stop');
    process.exit(1);
  });
  const metrics = new BotMetrics();
  // Files that collectFiles downloads get a progress line when stderr is a terminal.
  const progress = new DownloadProgress(process.stderr);
  const supervisor = new BotSupervisor(
    config.bots.map((b) => ({ ...b, logger, ...(config.drainTimeoutMs ? { stopTimeoutMs: config.drainTimeoutMs } : {}) })),
    {
      logger,
      create: (options) => {
        const bot = new Bot(options);
        metrics.track(bot);
        progress.watch(bot);
        return bot;
      },
    },
  );
  let health: HealthServer | undefined;
  if (config.health) {
    health = await startHealthServer({
      ...config.health,
      metrics,
      bots: () => supervisor.bots.flatMap((b) => (b.bot ? [b.bot] : [])),
    });
    logger.info({ url: health.url }, 'health and metrics endpoint: /healthz /readyz /metrics');
  }
  await supervisor.start();
  const signal = await stopSignal;
  logger.info({ signal }, 'stopping');
  await supervisor.stop();
  progress.close();
  await health?.close();
  logger.info('stopped');
  return 0;
}
