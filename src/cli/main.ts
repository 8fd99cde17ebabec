import { runCommand, runHelp } from './commands/run.js';
import { serverCommand, serverHelp } from './commands/server.js';
import { doctorCommand, doctorHelp } from './commands/doctor.js';
import { demoCommand, demoHelp } from './commands/demo.js';
import { mixCommand, mixHelp } from './commands/mix.js';
import { consoleCommand, consoleHelp } from './commands/console.js';
import { jobsCommand, jobsHelp } from './commands/jobs.js';
import { workerCommand, workerHelp } from './commands/worker.js';
import { UsageError } from './args.js';
import { packageVersion } from './version.js';

const help = `spreed-bot — headless conference bots for Spreed WebRTC

Usage: spreed-bot <command> [options]
       spreed-bot --version

Commands:
  run <module|config>   run bots as a service          (spreed-bot run --help)
  server                run the embedded channeling server (spreed-bot server --help)
  demo [--once]         the demo: server, recorder bot, file-drop bot and two participants
  mix <recording dir>   mix a recording into one file
  console [--dir DIR]   the operator console for a recordings archive (spreed-bot console --help)
  doctor                report ffmpeg, Chromium and werift versions
  worker --nats URL     run fleet jobs from NATS JetStream (spreed-bot worker --help)
  jobs <submit|list|stop|fetch>  fleet jobs: submit a bot, watch, stop, fetch files

Run 'spreed-bot <command> --help' for a command's options.`;

type Handler = (argv: string[]) => Promise<number>;

const commands: Record<string, { run: Handler; help: string }> = {
  run: { run: runCommand, help: runHelp },
  server: { run: serverCommand, help: serverHelp },
  doctor: { run: doctorCommand, help: doctorHelp },
  demo: { run: demoCommand, help: demoHelp },
  mix: { run: mixCommand, help: mixHelp },
  console: { run: consoleCommand, help: consoleHelp },
  worker: { run: workerCommand, help: workerHelp },
  jobs: { run: jobsCommand, help: jobsHelp },
};

/**
 * Prints an ordinary failure (port in use, missing folder) as one line a person can read; the
 * stack only with LOG_LEVEL=debug or trace, where a developer asked for it.
 */
function printFailure(prefix: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n').find((line) => line.trim()) ?? 'failed';
  console.error(`${prefix}: ${firstLine}`);
  if (['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '')) console.error(error instanceof Error ? (error.stack ?? message) : message);
}

/** Runs the CLI with argv (without node and script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(`spreed-bot ${packageVersion()}`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`spreed-bot: unknown command '${name}'\n\n${help}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`spreed-bot ${name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    printFailure(`spreed-bot ${name}`, error);
    return 1;
  }
}

// `tsx src/cli/main.ts` (npm start); the `spreed-bot` command enters through bin.ts instead.
const isEntry = process.argv[1] && /main\.[jt]s$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      printFailure('spreed-bot', error);
      process.exit(1);
    },
  );
}
