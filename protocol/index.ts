/** The Liaison wire contract: error codes and the v1 schemas. */
export * from './errors.js';
export * as v1 from './v1/index.js';
