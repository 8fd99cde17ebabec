/**
 * Echo bot: replies to every chat message from a person, privately to private messages and to the
 * room for group messages. Other bots are not answered (`ctx.chat$` leaves them out), so two echo
 * bots in one room stay quiet. Run it: `./bin/spreed-bot.js run bots/echo.ts --server ws://127.0.0.1:8080/ws --room lobby`
 */
import { commands, defineBot, type Plugin } from '../src/index.js';

export const echo: Plugin = {
  name: 'echo',
  setup(ctx) {
    return ctx.chat$.subscribe((message) => {
      if (message.text.startsWith('!')) return; // leave commands to the command router
      ctx.chat.reply(message, `${message.fromName} said: ${message.text}`);
    });
  },
};

export default defineBot({ name: 'Echo', room: 'lobby', plugins: [commands(), echo] });
