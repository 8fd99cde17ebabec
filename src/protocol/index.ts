/**
 * Channeling API 1.4 documents: types, runtime validation and frame builders. Pure, no I/O.
 * @packageDocumentation
 */
export * from './documents.js';
export * from './envelope.js';
export * from './parse.js';
export * from './frames.js';
export * from './client-frame.js';
export * as schemas from './schemas.js';
