/**
 * The bot framework: {@link Bot}, the plugin API and built-in plugins.
 * @packageDocumentation
 */
export * from './bot.js';
export * from './plugin.js';
export * from './chat.js';
export * from './commands.js';
export * from './services.js';
export * from './define.js';
export * from './config.js';
export { ModuleStartsBotError } from './module-guard.js';
export * from './plugins/index.js';
export * from './bot-traffic.js';
export * from './plugin-options.js';
export type { FaultLimit } from './fault-budget.js';
export type { FaultOrigin } from './isolation.js';
