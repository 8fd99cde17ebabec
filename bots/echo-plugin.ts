/** The echo plugin as a module default export, for config files (`- module: bots/echo-plugin.ts`). */
import { echo } from './echo.js';

export default echo;
