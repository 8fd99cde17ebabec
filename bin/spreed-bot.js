#!/usr/bin/env node
// Development launcher: runs the TypeScript CLI through tsx so `./bin/spreed-bot.js` works in the
// repository without a build. The package's `spreed-bot` command is the compiled dist/cli/bin.js.
import { register } from 'tsx/esm/api';
register();
// Tells the bot-module loader that .ts files already load (it must not register tsx twice).
globalThis[Symbol.for('spreed-bot.tsx-registered')] = true;
await import('../src/cli/bin.ts');
