export * from './certificate.js';
export * from './envelope.js';
export * from './events.js';
export * from './http.js';
export * from './payload.js';
export * from './primitives.js';
export * from './statement.js';
export * from './token.js';
