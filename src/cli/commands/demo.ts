import { runDemo } from '../../demo/demo.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';
import { waitForSignal } from '../signals.js';

export const demoHelp = `Usage: spreed-bot demo [--once] [--port N] [--dir DIR]

Starts an embedded channeling server, a recorder bot and a file-drop bot in the
Conference-type room 'conference/demo', and two scripted participants that join, send test
patterns with tones, chat, share a file and leave. Prints where the recording, its sidecar and
the collected file are, then keeps the server running until Ctrl-C.

If a recording or the file collection fails, it says which and why (one line each) and exits
with code 1. Logs are off unless LOG_LEVEL is set (e.g. LOG_LEVEL=info).

Options:
  --once       exit after one round (exit code 0 when everything was produced)
  --port N     server port (default: any free port)
  --dir DIR    where recordings go (default: recordings)
  -h, --help   show this help`;

/** `spreed-bot demo` (what `npm start` runs). */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { once: { type: 'boolean' }, port: { type: 'string' }, dir: { type: 'string' } });
  if (values.help) {
    console.log(demoHelp);
    return 0;
  }
  const port = Number(str(values, 'port') ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535`);
  // The demo prints its own readable summary; logs are for LOG_LEVEL=info/debug.
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent', name: 'demo' });
  const stop = waitForSignal(() => process.exit(1));
  const demo = await runDemo({ logger, port, dir: str(values, 'dir') });
  if (demo.failures.length > 0) {
    for (const line of demo.failures) console.error(`failed: ${line}`);
    console.error('the demo did not produce everything (details: LOG_LEVEL=debug)');
    await demo.close();
    return 1;
  }
  if (!values.once) {
    console.log(`\nThe server keeps running at ${demo.server.url} — connect your own bots to it.`);
    console.log(`The console stays up at ${demo.consoleUrl} — the demo meeting with its speaker timeline and players. Ctrl-C to exit.`);
    await stop;
  }
  await demo.close();
  return 0;
}
