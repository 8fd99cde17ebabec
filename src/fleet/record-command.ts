import type { Plugin } from '../bot/plugin.js';
import { FleetClient } from './client.js';
import { finalStatuses, type JobBot } from './job.js';

/** Options of {@link fleetRecordCommand}. */
export interface FleetRecordCommandOptions {
  /** NATS URL of the fleet. @defaultValue `'nats://127.0.0.1:4222'` */
  nats?: string;
  /** Channeling server URL the recorder joins (the one this bot is on). */
  server: string;
  /** Room PIN the recorder needs, if the room has one. Never logged. @defaultValue none */
  pin?: string;
  /**
   * The recording bot to submit; `server`, `room` and `pin` are filled in.
   * @defaultValue `{ name: 'Recorder', plugins: ['commands', 'record'] }`
   */
  job?: Partial<JobBot>;
  /** Streams the recording is expected to have (its cost on a worker). @defaultValue 4 */
  expectedStreams?: number;
}

/**
 * A chat plugin that turns `!record` in a room into a recording job for that room on the fleet
 * (`!record stop` stops it, `!record status` tells where it runs). The bot itself records nothing:
 * a fleet worker's recorder joins the room. NATS is connected on the first command.
 */
export function fleetRecordCommand(options: FleetRecordCommandOptions): Plugin {
  return {
    name: 'fleetRecord',
    setup(ctx) {
      let client: Promise<FleetClient> | undefined;
      let jobId: string | undefined;
      // One client for the bot's life that rides out NATS restarts; a failed first connect is tried again next time.
      const fleet = () =>
        (client ??= FleetClient.connect({ nats: options.nats, reconnectForever: true }).catch((error: unknown) => {
          client = undefined;
          throw error;
        }));
      const unregister = ctx.commands.register({
        name: 'record',
        usage: 'start|stop|status',
        help: 'records this room on the recording fleet',
        run: async (args) => {
          const action = (args[0] ?? 'start').toLowerCase();
          const c = await fleet();
          const current = jobId ? await c.get(jobId) : undefined;
          const active = current && !finalStatuses.includes(current.status) ? current : undefined;
          if (action === 'start') {
            if (active) return `already recording (job ${active.id}, ${active.status}${active.worker ? ` on ${active.worker}` : ''})`;
            const bot: JobBot = {
              name: 'Recorder',
              plugins: ['commands', 'record'],
              ...options.job,
              server: options.server,
              room: ctx.bot.room,
              ...(options.pin ? { pin: options.pin } : {}),
            };
            jobId = await c.submit(bot, { expectedStreams: options.expectedStreams });
            ctx.logger.info({ job: jobId, room: ctx.bot.room }, 'recording job submitted');
            return `recording job ${jobId} submitted; a recorder joins shortly`;
          }
          if (action === 'stop') {
            if (!active) return 'not recording';
            await c.stop(active.id);
            return `recording job ${active.id} stopped`;
          }
          if (action === 'status') {
            if (!active) return 'not recording';
            return `job ${active.id}: ${active.status}${active.worker ? ` on ${active.worker}` : ''}, ${active.handovers} hand-over(s)`;
          }
          return 'usage: !record start|stop|status';
        },
      });
      return async () => {
        unregister();
        if (client) await (await client.catch(() => undefined))?.close();
      };
    },
  };
}

/** Module form for config files: `{ module: '…/src/fleet/record-command.ts', options: { server, nats } }`. */
export default fleetRecordCommand;
