export * from './audit-sink.js';
export * from './clock.js';
export * from './root-of-trust.js';
export * from './storage.js';
