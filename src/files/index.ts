/**
 * File sharing over token peer connections: the version-0 chunk codec, serving shared files and
 * fetching announced ones.
 */
export * from './types.js';
export * from './errors.js';
export * from './chunk.js';
export * from './file-info.js';
export * from './mime.js';
export * from './file-names.js';
export * from './progress.js';
export * from './channel-util.js';
export * from './werift-channel.js';
export * from './shared-files.js';
export * from './serving-connection.js';
export * from './file-server.js';
export * from './file-fetcher.js';
export * from './fetch-policy.js';
export * from './werift-tuning.js';
