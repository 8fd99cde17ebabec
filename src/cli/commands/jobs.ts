import { ConfigError } from '../../bot/config.js';
import { FleetError } from '../../fleet/bus.js';
import { FleetClient } from '../../fleet/client.js';
import { readJobFile } from '../../fleet/job-config.js';
import type { JobState } from '../../fleet/job.js';
import { parse, str, UsageError } from '../args.js';

export const jobsHelp = `Usage: spreed-bot jobs <submit|list|stop|fetch> … [--nats URL]

Jobs of the recording and bot fleet (run workers with 'spreed-bot worker').

  jobs submit <config file> [--id ID] [--streams N] [--server URL] [--room NAME] [--pin PIN] [--name NAME]
        Submits one bot (a 'spreed-bot run' config with one bot) as a job; prints the job id.
        --streams: streams a recording is expected to have (its cost on a worker; default 4).
  jobs list [--json]
        Every job: status, which worker runs it and since when, hand-overs, meeting directory.
  jobs stop <id>
        Stops a job for good (a running recording is finalised; it is never restarted).
  jobs fetch <id> <dir>
        Downloads a finished job's meeting files from the object store (workers with --store nats).

Options:
  --nats URL   NATS server with JetStream (default $SPREED_NATS or nats://127.0.0.1:4222)
  -h, --help   show this help`;

function ago(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

/** One line per job, aligned. */
export function formatJobs(jobs: readonly JobState[]): string {
  const rows = [
    ['ID', 'STATUS', 'WORKER', 'SINCE', 'HANDOVERS', 'ROOM', 'MEETING'],
    ...jobs.map((j) => [
      j.id,
      j.status + (j.stopRequested && j.status === 'running' ? ' (stopping)' : ''),
      j.worker ?? '-',
      ago(j.status === 'running' ? j.since : (j.endedAt ?? j.submittedAt)),
      String(j.handovers),
      typeof j.bot.room === 'string' ? j.bot.room || '(default)' : '-',
      (j.meetingDir ?? '-') + (j.error ? `  error: ${j.error}` : ''),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

/** `spreed-bot jobs`. */
export async function jobsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    nats: { type: 'string' },
    json: { type: 'boolean' },
    id: { type: 'string' },
    streams: { type: 'string' },
    server: { type: 'string' },
    room: { type: 'string' },
    pin: { type: 'string' },
    name: { type: 'string' },
  });
  if (values.help) {
    console.log(jobsHelp);
    return 0;
  }
  const [action, ...args] = positionals;
  if (!action) throw new UsageError('missing sub-command: submit, list, stop or fetch');
  if (!['submit', 'list', 'stop', 'fetch'].includes(action)) throw new UsageError(`unknown sub-command '${action}'`);
  const nats = str(values, 'nats') ?? process.env.SPREED_NATS ?? 'nats://127.0.0.1:4222';
  let bot;
  let streams: number | undefined;
  if (action === 'submit') {
    if (!args[0]) throw new UsageError('missing <config file>');
    const given = str(values, 'streams');
    streams = given === undefined ? undefined : Number(given);
    if (streams !== undefined && !(Number.isInteger(streams) && streams > 0)) throw new UsageError(`--streams must be a positive integer, got '${given}'`);
    try {
      bot = await readJobFile(args[0], { server: str(values, 'server'), room: str(values, 'room'), pin: str(values, 'pin'), name: str(values, 'name') });
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`spreed-bot jobs: ${error.message}`);
        return 2;
      }
      throw error;
    }
  }
  if ((action === 'stop' && !args[0]) || (action === 'fetch' && (!args[0] || !args[1]))) {
    throw new UsageError(action === 'stop' ? 'missing <id>' : 'usage: jobs fetch <id> <dir>');
  }
  const client = await FleetClient.connect({ nats });
  try {
    switch (action) {
      case 'submit':
        console.log(await client.submit(bot!, { id: str(values, 'id'), expectedStreams: streams }));
        return 0;
      case 'list': {
        const jobs = await client.list();
        console.log(values.json ? JSON.stringify(jobs, null, 2) : formatJobs(jobs));
        return 0;
      }
      case 'stop': {
        const result = await client.stop(args[0]!);
        console.log(result === 'already-ended' ? `job ${args[0]} had already ended` : `job ${args[0]} ${result}`);
        return 0;
      }
      default: {
        const files = await client.fetch(args[0]!, args[1]!);
        for (const file of files) console.log(file);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof FleetError && error.code !== 'nats_unavailable') {
      console.error(`spreed-bot jobs: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await client.close();
  }
}
