export { openPostgresStorage, type PostgresStorageOptions } from './postgres-storage.js';
