/**
 * Running bots as a service: supervision with retries, health and metrics endpoints.
 * @packageDocumentation
 */
export * from './supervisor.js';
export * from './metrics.js';
export * from './health.js';
