/**
 * Metrics of `server --workers N`: a scrape lands on one worker, the answer covers every worker. The worker asks the
 * primary over the cluster IPC channel (`{dd: 'metrics-request'}`); the primary collects every worker's registry with
 * prom-client's AggregatorRegistry (`clusterMetrics()`, which aggregates each metric as its `aggregator` says) and
 * replies with the text (`{dd: 'metrics-reply'}`).
 *
 * Invariants:
 * - Bounded: a worker waits at most `timeoutMs` for the primary; then, or when the primary cannot collect (a worker
 *   that does not answer), or when the channel is closed, the scrape fails with DependencyError (503), never hangs.
 * - A message that is not ours is ignored; a reply for a scrape that already gave up is dropped.
 * - Only metrics text crosses the channel: nothing secret, and the primary's failure reason goes to the worker's log
 *   (as the error's cause), not to the client.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import { DependencyError } from '../errors/index.js';
import type { ExposeMetrics } from './server-metrics.js';

/** How long a worker waits for the primary's answer. */
const CLUSTER_SCRAPE_TIMEOUT_MS = 2000;

interface MetricsRequest {
  dd: 'metrics-request';
  id: number;
}

type MetricsReply = { dd: 'metrics-reply'; id: number; ok: true; text: string } | { dd: 'metrics-reply'; id: number; ok: false; reason: string };

export type MetricsMessage = MetricsRequest | MetricsReply;

/** One end of the channel: a worker's `process`, or the primary's handle on one worker. */
export interface MetricsChannel {
  /** Sends `message`; calls `failed` when it cannot be delivered (the channel is closed). */
  send(message: MetricsMessage, failed: (err: Error) => void): void;
  onMessage(listener: (message: unknown) => void): void;
}

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
const isMetricsRequest = (m: unknown): m is MetricsRequest => isObject(m) && m.dd === 'metrics-request' && typeof m.id === 'number';
const isMetricsReply = (m: unknown): m is MetricsReply => isObject(m) && m.dd === 'metrics-reply' && typeof m.id === 'number' && typeof m.ok === 'boolean';

const UNAVAILABLE = 'The metrics of every worker could not be collected in time; try again.';

/**
 * In the primary: answers the metrics requests of the worker at the other end of `channel` with every worker's
 * metrics, from `aggregator` (prom-client's AggregatorRegistry).
 */
export function serveClusterMetrics(channel: MetricsChannel, aggregator: { clusterMetrics(): Promise<string> }): void {
  const ignore = () => {}; // the worker is gone: nobody waits for the answer
  channel.onMessage((message) => {
    if (!isMetricsRequest(message)) return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (text) => channel.send({ dd: 'metrics-reply', id, ok: true, text }, ignore),
      (err: unknown) => channel.send({ dd: 'metrics-reply', id, ok: false, reason: err instanceof Error ? err.message : String(err) }, ignore),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's collection and answers scrapes with every worker's metrics.
 * @returns a scrape that throws DependencyError when the primary does not answer within `timeoutMs`.
 */
export function exposeToCluster(channel: MetricsChannel, timeoutMs = CLUSTER_SCRAPE_TIMEOUT_MS): ExposeMetrics {
  let nextId = 1;
  const pending = new Map<number, (reply: MetricsReply) => void>();
  channel.onMessage((message) => {
    if (!isMetricsReply(message)) return;
    pending.get(message.id)?.(message);
  });

  return (registry: Registry) => {
    AggregatorRegistry.setRegistries(registry);
    // Its constructor installs prom-client's worker-side responder to the primary's collection (once per process).
    new AggregatorRegistry();
    return () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const settle = (outcome: () => void) => {
          clearTimeout(timer);
          pending.delete(id);
          outcome();
        };
        const timer = setTimeout(() => settle(() => reject(new DependencyError(UNAVAILABLE, { cause: new Error(`no answer from the primary in ${timeoutMs} ms`) }))), timeoutMs);
        pending.set(id, (reply) =>
          settle(() =>
            reply.ok
              ? resolve({ contentType: registry.contentType, text: reply.text })
              : reject(new DependencyError(UNAVAILABLE, { cause: new Error(`the primary could not collect: ${reply.reason}`) })),
          ),
        );
        channel.send({ dd: 'metrics-request', id }, (err) => settle(() => reject(new DependencyError(UNAVAILABLE, { cause: err }))));
      });
  };
}
