import type { Command } from 'commander';
import { loadServerConfig, type ServerFlags } from '../config/config.js';
import { createLogger, startServer } from '../main.js';
import { integerIn } from './client/args.js';
import type { CliIo } from './client/io.js';
import { isWorkerProcess, runPrimary, startWorker } from './server-cluster.js';

/** `datadefender server`: runs the server until SIGINT/SIGTERM, then shuts down gracefully. */
export function registerServerCommand(program: Command, io: CliIo): void {
  program
    .command('server')
    .description('run the DataDefender server')
    .option('--dev', 'dev mode: local root key, dev CA, administrator credentials in the data dir')
    .option('--data-dir <dir>', 'data directory (default ./data)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8443)')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data dir)')
    .option('--root-of-trust <kind>', 'local-sealed (default outside dev mode), pkcs11 or aws-kms (env DATADEFENDER_ROOT_OF_TRUST)')
    .option('--workers <n>', 'worker processes sharing the listener (env DATADEFENDER_WORKERS; default: the number of cores)', integerIn({ min: 1, max: 256 }))
    .option('--dual-control', 'require a second principal to approve sensitive operations (env DATADEFENDER_DUAL_CONTROL=on)')
    .action(async (opts: ServerFlags) => {
      const config = loadServerConfig(opts, io.env);
      const logger = createLogger(config.logLevel);
      if (config.workers > 1 && !isWorkerProcess()) return runPrimary(config, logger, (line) => io.stdout(`${line}\n`));
      let server;
      try {
        server = isWorkerProcess() ? await startWorker(config, logger) : await startServer(config, logger);
      } catch (err) {
        // What the start opened before it failed (storage, threads, timers) would keep the process alive without
        // serving, unseen by a supervisor: exit once the error is reported.
        setTimeout(() => process.exit(), 1000).unref();
        throw err;
      }
      if (!isWorkerProcess()) io.stdout(`${server.readyMessage}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          logger.info('shutting down');
          server.close().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      if (isWorkerProcess()) process.disconnect(); // the IPC channel would keep a stopped worker alive
    });
}
