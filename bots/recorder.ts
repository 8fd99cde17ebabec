/**
 * Recorder bot: answers every call, follows conferences and records every participant to
 * `recordings/<room>/<start-time>/`. Chat `!record start|stop|status`.
 * Run it: `./bin/spreed-bot.js run bots/recorder.ts --server ws://127.0.0.1:8080/ws --room conference/standup`
 */
import { autoAnswer, commands, defineBot, record } from '../src/index.js';

export default defineBot({
  name: 'Recorder',
  room: 'conference/standup',
  status: { message: 'This meeting is recorded' },
  plugins: [
    commands(),
    autoAnswer({ policy: 'everyone' }),
    record({ dir: 'recordings', notice: 'This meeting is being recorded.', stopWhenEmptyMs: 30_000 }),
  ],
});
