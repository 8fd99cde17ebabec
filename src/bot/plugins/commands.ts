import { mergeMap } from 'rxjs';
import { RateLimiter } from '../../util/rate-limit.js';
import { parseCommand } from '../commands.js';
import type { Plugin } from '../plugin.js';

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

/**
 * The command router: runs `!name args` chat commands registered by any plugin through
 * `ctx.commands`, with built-in `!help` and `!status`. Each sender is rate limited (token
 * bucket); limited commands are dropped with one log line per sender.
 */
export function commands(options: CommandsOptions = {}): Plugin {
  const prefix = options.prefix ?? '!';
  return {
    name: 'commands',
    setup(ctx) {
      const perSender = new RateLimiter(options.burst ?? 5, options.perSecond ?? 0.5);
      const maxReplies = options.maxRepliesPerSecond ?? 2;
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
              reply = await command.run(parsed.args, message);
            } catch (error) {
              ctx.logger.error({ err: error, command: parsed.name }, 'command failed');
              reply = `${prefix}${parsed.name} failed: ${error instanceof Error ? error.message : String(error)}`;
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
