export { openSqliteStorage } from './sqlite-storage.js';
