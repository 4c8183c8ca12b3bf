/**
 * `datadefender server --workers N`: one primary process and N worker processes sharing one listener (node:cluster).
 * The primary serves no requests: it starts the workers (the first alone, so it runs the storage migrations and dev
 * bootstrap before the others start), holds the local-sealed root for all of them (one seal and one unseal attempt
 * per node; the root key never leaves the primary), prints one ready line, replaces a worker that dies, and stops
 * them all on SIGINT/SIGTERM. The rotation and deletion jobs run in whichever worker holds the job lease (every worker
 * competes; jobs/leader-lease.ts), not in a worker chosen here. A metrics scrape that lands on a worker is answered
 * with every worker's metrics, which the primary collects (metrics/cluster-metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { connectIpcRoot } from '../adapters/root-of-trust/cluster/ipc-root.js';
import type { RootChannel } from '../adapters/root-of-trust/cluster/root-messages.js';
import { createRootServer } from '../adapters/root-of-trust/cluster/root-server.js';
import { isLocalSealedRoot } from '../adapters/root-of-trust/local-sealed/index.js';
import { rootOf, type ServerConfig } from '../config/config.js';
import { openConfiguredRoot, startServer, type OpenedRoot, type RunningServer } from '../main.js';
import { exposeToCluster, serveClusterMetrics, type MetricsChannel } from '../metrics/cluster-metrics.js';

const RESTART_DELAY_MS = 1000;

interface ReadyMessage {
  dd: 'ready';
  readyMessage: string;
}
const isReady = (m: unknown): m is ReadyMessage => typeof m === 'object' && m !== null && (m as { dd?: unknown }).dd === 'ready';

/** An end of the IPC pipe between the primary and a worker; the root and metrics protocols share it (messages are tagged). */
type Channel = RootChannel & MetricsChannel;
const reportFailure = (failed?: (err: Error) => void) => (err: Error | null) => void (err && failed?.(err));
const channelTo = (worker: Worker): Channel => ({
  send: (m: object, failed?: (err: Error) => void) => void worker.send(m, reportFailure(failed)),
  onMessage: (l) => void worker.on('message', l),
});
const channelToPrimary: Channel = {
  send: (m: object, failed?: (err: Error) => void) => (process.send ? void process.send(m, reportFailure(failed)) : failed?.(new Error('no IPC channel to the primary'))),
  onMessage: (l) => void process.on('message', l),
};

/** Runs the primary until SIGINT/SIGTERM; resolves when every worker has stopped. @throws when a worker fails to start. */
export async function runPrimary(config: ServerConfig, logger: Logger, print: (line: string) => void): Promise<void> {
  const root = rootOf(config) === 'local-sealed' ? await openConfiguredRoot(config) : undefined;
  const rootServer = isLocalSealedRoot(root?.sealable) ? createRootServer(root.sealable) : undefined;
  const metrics = new AggregatorRegistry();
  let stopping = false;

  const start = (id: number) =>
    new Promise<ReadyMessage>((resolve, reject) => {
      const worker = cluster.fork();
      const channel = channelTo(worker);
      const disconnect = rootServer?.connect(channel);
      serveClusterMetrics(channel, metrics);
      let ready = false;
      worker.on('message', (m: unknown) => {
        if (!isReady(m)) return;
        ready = true;
        resolve(m);
      });
      worker.once('exit', (code, signal) => {
        disconnect?.();
        if (!ready) return reject(new Error(`worker ${id} exited (${signal ?? code}) before it was ready; see its log above`));
        if (stopping) return;
        logger.error({ worker: id, code, signal }, 'worker died; starting a replacement');
        setTimeout(() => void start(id).catch((err: unknown) => logger.error({ err, worker: id }, 'replacement worker failed')), RESTART_DELAY_MS);
      });
    });

  const first = await start(1);
  await Promise.all(Array.from({ length: config.workers - 1 }, (_, i) => start(i + 2)));
  print(`${first.readyMessage} [${config.workers} workers]`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      logger.info('shutting down the workers');
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let left = workers.length;
      if (left === 0) resolve();
      for (const worker of workers) {
        worker.once('exit', () => --left === 0 && resolve());
        worker.process.kill('SIGTERM');
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await root?.close();
}

/** In a worker: the server, with the primary's root when it holds one; tells the primary when it is ready. */
export async function startWorker(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  let root: OpenedRoot | undefined;
  if (rootOf(config) === 'local-sealed') {
    const ipc = connectIpcRoot(channelToPrimary);
    root = { root: ipc, sealable: ipc, health: async () => 'ok', close: async () => {}, onSealed: ipc.onSealed };
  }
  const server = await startServer(config, logger, { ...(root ? { root } : {}), exposeMetrics: exposeToCluster(channelToPrimary) });
  process.send?.({ dd: 'ready', readyMessage: server.readyMessage } satisfies ReadyMessage);
  return server;
}

export const isWorkerProcess = () => cluster.isWorker;
