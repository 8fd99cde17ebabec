/**
 * File-drop bot: collects every file shared in the room into a folder, and shares a folder of its
 * own. Run it: `./bin/spreed-bot.js run bots/file-drop.ts --server ws://127.0.0.1:8080/ws --room lobby`
 * Files land in `recordings/file-drop/` (override with FILE_DROP_DIR).
 */
import { collectFiles, commands, defineBot, shareFolder, type Plugin } from '../src/index.js';

const inbox = process.env.FILE_DROP_DIR ?? 'recordings/file-drop';
const plugins: Plugin<any>[] = [
  commands(),
  collectFiles({ dir: inbox, policy: { kind: 'max-size', bytes: 512 * 1024 * 1024 }, confirm: true }),
];
if (process.env.FILE_DROP_SHARE) plugins.push(shareFolder({ dir: process.env.FILE_DROP_SHARE }));

export default defineBot({ name: 'File drop', room: 'lobby', plugins });
