import { mergeMap } from 'rxjs';
import { z } from 'zod';
import { RateLimiter } from '../../util/rate-limit.js';
import { CommandFailed, parseCommand } from '../commands.js';
import type { Plugin } from '../plugin.js';
import { optionTypes, parsePluginOptions } from '../plugin-options.js';

/** Options of the {@link commands} plugin. */
export interface CommandsOptions {
  /** Command prefix. @defaultValue `'!'` */
  prefix?: string;
  /** Commands one sender may run at once before being limited. @defaultValue 5 */
  burst?: number;
  /** Sustained commands per second per sender. @defaultValue 0.5 */
  perSecond?: number;
  /** Replies per second the bot sends in total, so a crowd cannot make it flood the room. @defaultValue 2 */
  maxRepliesPerSecond?: number;
}

/** Schema of {@link CommandsOptions}, checked when the plugin is created. */
export const commandsOptionsSchema = z
  .object({
    prefix: z.string().min(1).max(8).regex(/^\S+$/, 'expected no spaces').default('!'),
    burst: optionTypes.positiveInt().default(5),
    perSecond: z.number().positive().default(0.5),
    maxRepliesPerSecond: z.number().positive().default(2),
  })
  .strict();

/**
 * The command router: runs `!name args` chat commands registered by any plugin through
 * `ctx.commands`, with built-in `!help` and `!status`. Each sender is rate limited (token
 * bucket); limited commands are dropped with one log line per sender. Messages from other bots
 * (`ctx.chat$` leaves them out) are never answered. A command runs in the scope of the plugin that
 * registered it, so its failure is logged with that plugin's name; the sender gets the error.
 */
export function commands(options: CommandsOptions = {}): Plugin {
  const settings = parsePluginOptions('commands', commandsOptionsSchema, options);
  const prefix = settings.prefix;
  return {
    name: 'commands',
    setup(ctx) {
      const perSender = new RateLimiter(settings.burst, settings.perSecond);
      const maxReplies = settings.maxRepliesPerSecond;
      const replies = new RateLimiter(Math.max(1, maxReplies * 5), maxReplies);
      const warned = new Set<string>();
      const startedAt = Date.now();

      const unregister = [
        ctx.commands.register({
          name: 'help',
          help: 'lists the commands',
          run: () =>
            ctx.commands
              .list()
              .map((c) => `${prefix}${c.name}${c.usage ? ` ${c.usage}` : ''} — ${c.help}`)
              .join('\n'),
        }),
        ctx.commands.register({
          name: 'status',
          help: 'shows what the bot is doing',
          run: () => {
            const uptime = Math.round((Date.now() - startedAt) / 1000);
            const users = ctx.users.size;
            return `${ctx.bot.name} in '${ctx.bot.room}' — up ${uptime}s, ${users} other participant(s)`;
          },
        }),
      ];

      const subscription = ctx.chat$
        .pipe(
          mergeMap(async (message) => {
            const parsed = parseCommand(message.text, prefix);
            if (!parsed) return;
            const command = ctx.commands.get(parsed.name);
            if (!command) return;
            if (!perSender.take(message.from)) {
              if (!warned.has(message.from)) {
                warned.add(message.from);
                ctx.logger.warn({ from: message.from }, 'sender is over the command rate limit; dropping');
              }
              return;
            }
            warned.delete(message.from);
            let reply: string | void;
            try {
              reply = await ctx.commands.run(command, parsed.args, message);
            } catch (error) {
              const failure = error instanceof CommandFailed ? error : new CommandFailed(command.name, error, false);
              if (!failure.reported) ctx.logger.error({ err: failure.cause, command: command.name }, 'command failed');
              reply = `${prefix}${failure.message}`;
            }
            if (reply && replies.take('*')) ctx.chat.reply(message, reply);
          }),
        )
        .subscribe();

      return () => {
        subscription.unsubscribe();
        for (const off of unregister) off();
      };
    },
  };
}
