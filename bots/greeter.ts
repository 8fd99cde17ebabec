/**
 * Greeter bot: welcomes everyone who joins the room by name, once their Status (with the
 * display name) has arrived. Other bots (their Status has `bot: true`) are not greeted. Run it: `./bin/spreed-bot.js run bots/greeter.ts --server ws://127.0.0.1:8080/ws`
 */
import { filter, first, mergeMap, race, timer, map } from 'rxjs';
import { defineBot, isBot, type Plugin } from '../src/index.js';

/** Options of the greeter. */
export interface GreeterOptions {
  /** Greeting; `{name}` is replaced by the joiner's display name. @defaultValue `'Welcome, {name}!'` */
  text?: string;
}

export function greeter(options: GreeterOptions = {}): Plugin {
  const text = options.text ?? 'Welcome, {name}!';
  return {
    name: 'greeter',
    setup(ctx) {
      return ctx.joined$
        .pipe(
          // A joiner's display name arrives with its Status, usually right after Joined.
          mergeMap((joiner) =>
            race(
              ctx.users$.pipe(
                map((users) => users.get(joiner.id)),
                filter((p) => typeof p?.status?.displayName === 'string'),
              ),
              timer(3000).pipe(map(() => joiner)),
            ).pipe(first()),
          ),
        )
        .subscribe((participant) => {
          if (participant && !isBot(participant)) ctx.chat.send(text.replace('{name}', ctx.displayName(participant.id)));
        });
    },
  };
}

export default defineBot({ name: 'Greeter', room: 'lobby', plugins: [greeter()] });
