/**
 * Embedded Spreed WebRTC channeling server (Channeling API 1.4) that behaves like the real Go
 * server as observed (PROTOCOL-NOTES), for development, tests and the demo.
 * @packageDocumentation
 */
export { startServer, type ChannelingServer } from './server.js';
export type { ServerOptions } from './options.js';
export type { ServerStats } from './hub.js';
export { encodeGo, encodeEnvelope, GoMap, type Envelope } from './json.js';
