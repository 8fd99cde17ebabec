/**
 * spreed-bot: headless conference bots and recording agents for the Spreed WebRTC
 * Channeling API 1.4.
 * @packageDocumentation
 */
export * from './protocol/index.js';
export * from './channel/index.js';
export * from './room/index.js';
export * from './bot/index.js';
export { startServer } from './server/index.js';
export { FleetClient, FleetWorker, fleetRecordCommand, readJobFile, type FleetClientOptions, type FleetWorkerOptions, type JobBot, type JobState } from './fleet/index.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './util/logger.js';
