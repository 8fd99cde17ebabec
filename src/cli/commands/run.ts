import { Bot } from '../../bot/bot.js';
import { startHealthServer, type HealthServer } from '../../service/health.js';
import { TOKEN_ENV } from '../../console/auth.js';
import { BotMetrics } from '../../service/metrics.js';
import { BotSupervisor } from '../../service/supervisor.js';
import { ConfigError, loadRunConfig } from '../../bot/config.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError, type ParsedArgs } from '../args.js';
import { ListenError } from '../listen-error.js';
import { DownloadProgress } from '../download-progress.js';
import { ShutdownSignals } from '../signals.js';

export const runHelp = `Usage: spreed-bot run <bot module or config file> [options]

Runs one or more bots as a long-lived service. The target is a bot module (.ts/.js whose
default export is defineBot({...})) or a config file (.json/.yaml/.yml) with one bot or a
'bots' list. SIGINT/SIGTERM stop gracefully at any time, also while a server is unreachable
(recordings and transfers are finalised within drainTimeoutMs); a second signal forces the stop.

Options override the SPREED_SERVER/SPREED_ROOM/SPREED_PIN/SPREED_NAME environment, which
overrides the file. With a 'bots' list only --server/SPREED_SERVER apply (to every bot); set
room, name and PIN per bot in the file.
  --server URL   channeling server WebSocket URL, e.g. ws://127.0.0.1:8080/ws
  --room NAME    room to join
  --pin PIN      room PIN (never logged)
  --name NAME    bot display name
  -h, --help     show this help

Logs are JSON lines when stdout is not a terminal (LOG_LEVEL sets the level). When stderr is a
terminal, files that collectFiles downloads get a progress bar there.
Exit codes: 0 after a graceful stop, 1 on a fatal error, 2 on bad usage or configuration.`;

/** Drain time when the config sets none (the bots' own stop-hook default). */
const defaultDrainTimeoutMs = 30_000;

/** Extra time after `drainTimeoutMs` for leaving rooms and closing sockets before giving up. */
const closeGraceMs = 5000;

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
  // Listen before anything else: a stop request while the config loads or a server is
  // unreachable must still stop the process (issue 13 item 2).
  const signals = new ShutdownSignals();
  try {
    return await runUntilSignal(target, values, signals);
  } finally {
    signals.dispose();
  }
}

async function runUntilSignal(target: string, values: ParsedArgs['values'], signals: ShutdownSignals): Promise<number> {
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
  for (const warning of config.warnings ?? []) logger.warn(warning);
  if (signals.received) {
    logger.info({ signal: signals.received }, 'stop requested before any bot started');
    return 0;
  }
  signals.onRepeat(() => {
    logger.warn('second signal: forcing stop');
    process.exit(1);
  });
  const metrics = new BotMetrics();
  // Files that collectFiles downloads get a progress line when stderr is a terminal.
  const progress = new DownloadProgress(process.stderr);
  const drainTimeoutMs = config.drainTimeoutMs ?? defaultDrainTimeoutMs;
  const supervisor = new BotSupervisor(
    config.bots.map((b) => ({ ...b, logger, stopTimeoutMs: drainTimeoutMs })),
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
    try {
      const { recordings, token, ...listen } = config.health;
      health = await startHealthServer({
        ...listen,
        metrics,
        bots: () => supervisor.bots.flatMap((b) => (b.bot ? [b.bot] : [])),
        console: { recordingsDir: recordings },
        stopBot: async (bot) => void (await supervisor.stopBot(bot)),
        token: token ?? (process.env[TOKEN_ENV] || undefined),
        logger,
      });
    } catch (error) {
      throw ListenError.from('the health endpoint', config.health, "set 'health.port' in the config to a free port", error);
    }
    logger.info({ url: health.url, console: health.consoleUrl }, 'health and metrics endpoint: /healthz /readyz /metrics, operator console on /');
  }
  logger.info({ bots: config.bots.map((b) => b.name), drainTimeoutMs }, 'starting bots');
  // Not awaited: a bot whose server is down keeps its start open; the signal must win anyway.
  void supervisor.start();
  const signal = await signals.first;
  logger.info({ signal, drainTimeoutMs }, 'stopping: finalising recordings and transfers');
  const stopped = await withDeadline(supervisor.stop(), drainTimeoutMs + closeGraceMs);
  progress.close();
  await health?.close();
  if (!stopped) {
    logger.error({ drainTimeoutMs }, `bots did not stop within drainTimeoutMs + ${closeGraceMs} ms; exiting anyway`);
    return 1;
  }
  logger.info('stopped');
  // main() exits the process next; name what would otherwise keep it alive.
  logger.debug({ handles: process.getActiveResourcesInfo() }, 'resources still open after stop');
  return 0;
}

/** True when `work` settled within `ms`, false when the deadline came first. */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
