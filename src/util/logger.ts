import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/**
 * The logger every layer takes: pino's interface. Layers below the bot accept an
 * optional logger and default to a silent one, so library code never prints on its own.
 */
export type Logger = PinoLogger;

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level. @defaultValue `process.env.LOG_LEVEL ?? 'info'` */
  level?: LevelWithSilent;
  /** Pretty, human output. @defaultValue `true` when stdout is a TTY, JSON otherwise */
  pretty?: boolean;
  /** Logger name shown on every line. */
  name?: string;
}

/** Creates a structured logger: pretty in a terminal, JSON lines when not a TTY. PINs are redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  return pino({
    name: options.name,
    level,
    redact: { paths: ['pin', '*.pin', 'PIN', '*.PIN', '*.Credentials', 'Credentials'], censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}

/** A logger that drops everything; the default for library layers. */
export const silentLogger: Logger = pino({ level: 'silent' });
