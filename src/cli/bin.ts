#!/usr/bin/env node
// The `spreed-bot` command of the package (compiled to dist/cli/bin.js). In the repository,
// bin/spreed-bot.js runs this file through tsx so no build is needed.
import { main } from './main.js';

process.exit(await main(process.argv.slice(2)));
