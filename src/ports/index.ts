export * from './audit-sink.js';
export * from './clock.js';
export * from './root-of-trust.js';
export * from './storage.js';
export * from './audit-chain-store.js';
export * from './root-ring-storage.js';
export * from './custom-key-store-storage.js';
export * from './key-store.js';
