import { ConsoleError, startConsoleServer, TOKEN_ENV } from '../../console/index.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';
import { waitForSignal } from '../signals.js';

export const consoleHelp = `Usage: spreed-bot console [--dir DIR] [--host H] [--port N]

Serves the operator console's meetings part without running bots, for browsing an archive of
recordings: the meetings list, each meeting's speaker timeline, players, downloads and mix-down.
Prints the page's URL and runs until Ctrl-C.

Options:
  --dir DIR    recordings directory (default: recordings)
  --host H     listen address (default: 127.0.0.1); anything but loopback needs a token
  --port N     port (default: 9465; 0 picks a free one)
  -h, --help   show this help

Environment:
  ${TOKEN_ENV}   token the page asks for (required off loopback; never logged)`;

/** `spreed-bot console`. */
export async function consoleCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { dir: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' } });
  if (values.help) {
    console.log(consoleHelp);
    return 0;
  }
  const port = Number(str(values, 'port') ?? 9465);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const stop = waitForSignal(() => process.exit(1));
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'warn', name: 'console' });
  const dir = str(values, 'dir') ?? 'recordings';
  let server;
  try {
    server = await startConsoleServer({ recordingsDir: dir, host: str(values, 'host'), port, token: process.env[TOKEN_ENV] || undefined, logger });
  } catch (error) {
    if (error instanceof ConsoleError) {
      console.error(`spreed-bot console: ${error.message}`);
      return 2;
    }
    throw error;
  }
  console.log(`console: ${server.url}  (recordings in ${dir}; Ctrl-C to stop)`);
  await stop;
  await server.close();
  return 0;
}
