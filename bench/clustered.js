// N worker processes on one listener for the baseline servers (node:cluster, as `datadefender server --workers N`):
// the primary forks the workers and prints `ready` once every worker listens; SIGTERM stops them all.
import cluster from 'node:cluster';

/** Runs `start` (which must resolve once listening) in `workers` processes, or in this one when workers <= 1. */
export async function runClustered(workers, start) {
  if (workers <= 1) {
    await start();
    process.stdout.write('ready\n');
    return;
  }
  if (cluster.isWorker) {
    await start();
    process.send('listening');
    return;
  }
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'listening' && ++listening === workers) process.stdout.write('ready\n');
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill('SIGTERM');
    process.exit(0);
  });
}
