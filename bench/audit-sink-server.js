// Bench-only launcher (never reachable from the datadefender command or its configuration) of the real server:
// src/main.ts startServer, started as `datadefender server --dev --workers 1` starts it (the same config loading,
// logger and call), with one difference in the `memory` variant only: the audit runtime's sink, through startServer's
// benchmark-only hook (BenchmarkOnlyHooks.auditSinkForBenchmark). bench/audit-chain.js starts both variants with this
// file and the same settings, so nothing else differs.
// - `storage`: the default, the real trail (durable group-committed appends to SQLite, synchronous=FULL).
// - `memory`: events kept in a bounded array and dropped. The audit runtime is the same: keyed hashes of sensitive
//   values, the hash chain, signed checkpoints and the audit keys (both still in storage).
// Usage: node bench/audit-sink-server.js <dataDir> <port> storage|memory
import { loadServerConfig } from '../dist/config/config.js';
import { createLogger, startServer } from '../dist/main.js';

const [dataDir, port, sink] = process.argv.slice(2);
if (!['storage', 'memory'].includes(sink)) throw new Error('usage: audit-sink-server.js <dataDir> <port> storage|memory');

/** Appends commit in call order and never fail, so the audit log pipelines batches exactly as it does on SQLite. */
function memorySink(storage) {
  let kept = [];
  return {
    ...storage,
    orderedAppends: true,
    async append(events) {
      kept.push(...events);
      if (kept.length > 100_000) kept = [];
    },
  };
}

const config = loadServerConfig({ dev: true, workers: 1, dataDir, listen: `127.0.0.1:${port}` }, process.env);
const logger = createLogger(config.logLevel);
const server = await startServer(config, logger, {}, sink === 'memory' ? { auditSinkForBenchmark: memorySink } : {});
console.log(`${server.readyMessage} [audit sink: ${sink}]`);
process.once('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    (err) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
});
