import { startServer } from '../../server/index.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';
import { ListenError } from '../listen-error.js';
import { ShutdownSignals } from '../signals.js';

export const serverHelp = `Usage: spreed-bot server [--host H] [--port N]

Runs the embedded channeling server (Spreed WebRTC Channeling API 1.4) until Ctrl-C.
Rooms named conference/… are Conference-type rooms.

Options:
  --host H     address to listen on (default 127.0.0.1)
  --port N     port (default 8080; 0 picks a free one)
  -h, --help   show this help`;

/** `spreed-bot server`. */
export async function serverCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { host: { type: 'string' }, port: { type: 'string' } });
  if (values.help) {
    console.log(serverHelp);
    return 0;
  }
  const port = Number(str(values, "port") ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got '${values.port}'`);
  const logger = createLogger({ name: 'server' });
  const host = str(values, 'host') ?? '127.0.0.1';
  const signals = new ShutdownSignals();
  let server;
  try {
    server = await startServer({ host, port, logger });
  } catch (error) {
    signals.dispose();
    throw ListenError.from('the channeling server', { host, port }, 'pick another with --port (0 picks a free one)', error);
  }
  console.log(`spreed-bot channeling server listening on ${server.url}`);
  await signals.first;
  signals.dispose();
  await server.close();
  return 0;
}
