/**
 * The metrics exchange of `server --workers N` over an in-memory channel pair: a worker's scrape is answered with the
 * primary's collection, and fails with a 503-class DependencyError — never hangs — when the primary cannot collect,
 * does not answer in time, or cannot be reached.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/errors/index.js';
import { exposeToCluster, serveClusterMetrics, type MetricsChannel } from '../../src/metrics/cluster-metrics.js';

/** Two connected ends, delivering asynchronously like IPC; `closed` makes every send fail. */
function channelPair(options: { closed?: boolean } = {}) {
  const listeners = { worker: [] as Array<(m: unknown) => void>, primary: [] as Array<(m: unknown) => void> };
  const end = (to: keyof typeof listeners, from: keyof typeof listeners) => ({
    send: (m: unknown, failed: (err: Error) => void) =>
      void setImmediate(() => (options.closed ? failed(new Error('channel closed')) : listeners[to].forEach((l) => l(m)))),
    onMessage: (l: (m: unknown) => void) => void listeners[from].push(l),
  });
  return { worker: end('primary', 'worker') satisfies MetricsChannel, primary: end('worker', 'primary') satisfies MetricsChannel, deliverToWorker: (m: unknown) => listeners.worker.forEach((l) => l(m)) };
}

const UNAVAILABLE = 'The metrics of every worker could not be collected in time; try again.';

describe('cluster metrics', () => {
  it('answers a worker with what the primary collected, each scrape with its own answer', async () => {
    const { worker, primary } = channelPair();
    let n = 0;
    serveClusterMetrics(primary, { clusterMetrics: async () => `datadefender_sealed ${n++}\n` });
    const registry = new Registry();
    const scrape = exposeToCluster(worker, 1000)(registry);
    const answers = await Promise.all([scrape(), scrape(), scrape()]);
    expect(answers.map((a) => a.contentType)).toEqual(Array(3).fill(registry.contentType));
    expect(answers.map((a) => a.text).sort()).toEqual(['datadefender_sealed 0\n', 'datadefender_sealed 1\n', 'datadefender_sealed 2\n']);
  });

  it('fails with DependencyError when the primary cannot collect (a worker did not answer)', async () => {
    const { worker, primary } = channelPair();
    serveClusterMetrics(primary, { clusterMetrics: async () => Promise.reject(new Error('Operation timed out.')) });
    const failure = await exposeToCluster(worker, 1000)(new Registry())().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(DependencyError);
    expect(failure).toMatchObject({ code: 'ERR_DEPENDENCY', message: UNAVAILABLE });
    expect(String((failure as Error).cause)).toContain('Operation timed out.');
  });

  it('gives up after the timeout when the primary does not answer, and drops the late answer', async () => {
    const { worker, deliverToWorker } = channelPair(); // nobody serves the primary's end
    const started = Date.now();
    const failure = await exposeToCluster(worker, 150)(new Registry())().catch((err: unknown) => err);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(failure).toMatchObject({ code: 'ERR_DEPENDENCY', message: UNAVAILABLE });
    expect(() => deliverToWorker({ dd: 'metrics-reply', id: 1, ok: true, text: 'late' })).not.toThrow();
  });

  it('fails at once when the channel to the primary is closed', async () => {
    const { worker } = channelPair({ closed: true });
    const started = Date.now();
    await expect(exposeToCluster(worker, 5000)(new Registry())()).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ignores messages that are not its own', async () => {
    const { worker, primary, deliverToWorker } = channelPair();
    const seen: unknown[] = [];
    primary.onMessage((m) => seen.push(m));
    serveClusterMetrics(primary, { clusterMetrics: async () => 'ok\n' });
    const scrape = exposeToCluster(worker, 1000)(new Registry());
    deliverToWorker({ dd: 'root-status', status: {} });
    deliverToWorker({ dd: 'metrics-reply', id: 'x' });
    deliverToWorker('hello');
    expect((await scrape()).text).toBe('ok\n');
    expect(seen).toEqual([{ dd: 'metrics-request', id: 1 }]);
  });
});
