/**
 * The fail-closed, hash-chained audit log in front of an AuditSink: this process's single appender of its chain.
 * Invariants:
 * - `record` resolves only after the event is durable in the sink, chained (audit-chain.ts) and redacted
 *   (sensitive.ts: every Sensitive value becomes its keyed hash before anything is stored or hashed);
 * - appends are group-committed: events queued while a batch is being written go out together in the next batch;
 *   one batch is in flight at a time, or up to `maxInFlight` when the sink commits in order and refuses appends
 *   behind a failure of the same chain (`orderedAppends`), so the chain is committed in order without any lock on a
 *   shared head;
 * - a batch whose append failed or timed out may or may not be on disk: the chain is abandoned and the next batch
 *   starts a new chain, so no chain ever has a gap and nothing after an unknown outcome is linked to it;
 * - a caller never waits longer than `timeoutMs`: a slow or failing sink makes `record` reject with
 *   AuditUnavailableError, and so does a full queue; while the sink is stalled, `record` fails at once;
 * - `onDurable` (checkpoints, streaming sinks) runs after the batch is durable and cannot delay or fail it.
 */
import { AuditUnavailableError } from '../errors/index.js';
import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';
import { createAuditChain, type AuditChain, type ChainHead } from './audit-chain.js';
import { redact, type AuditHmacKey } from './sensitive.js';

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** False while the sink is failing or stalled (for health). */
  healthy(): boolean;
  /** The head of this process's chain as last made durable (null before the first append). */
  durableHead(): ChainHead | null;
}

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface AuditLogOptions {
  sink: AuditSink;
  timeoutMs?: number;
  maxBatch?: number;
  maxQueue?: number;
  /** Batches in flight when the sink has `orderedAppends` (default 8); always 1 otherwise. */
  maxInFlight?: number;
  /** The chain this log appends (default: a new chain with a random id). */
  chain?: AuditChain;
  /** The current HMAC key for sensitive values; undefined drops them (`<redacted>`). */
  hmacKey?: () => AuditHmacKey | undefined;
  /** Called with each durable batch (chained) and the head after it. Must not throw; never awaited. */
  onDurable?: (events: readonly AuditEvent[], head: ChainHead) => void;
  /** Called with the sink's error (for the operator log; never sent to clients). */
  onSinkError?: (err: unknown) => void;
  /** Called when the chain is abandoned after an unknown outcome, with the last durable head of the old chain. */
  onChainAbandoned?: (lastDurable: ChainHead | null) => void;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { sink, timeoutMs = 5_000, maxBatch = 1_000, maxQueue = 50_000, onSinkError = () => {} } = options;
  const chain = options.chain ?? createAuditChain();
  const hmacKey = options.hmacKey ?? (() => undefined);
  let queue: Pending[] = [];
  const maxInFlight = sink.orderedAppends ? (options.maxInFlight ?? 8) : 1;
  let inFlight = 0;
  let scheduled = false;
  let stalled = false;
  let failing = false;
  let durable: ChainHead | null = null;

  const failAll = (entries: Pending[], cause?: unknown) => {
    for (const p of entries) p.reject(new AuditUnavailableError({ cause }));
  };
  /** Gives up `chainId` if it is still the current chain (later batches of an abandoned chain fail by themselves). */
  const abandon = (chainId: string) => {
    if (chain.head().chainId !== chainId) return;
    const old = chain.abandon();
    // `durable` still names the old chain's last acknowledged head (or an earlier chain's).
    options.onChainAbandoned?.(durable !== null && durable.chainId === old.chainId ? durable : null);
  };

  const send = async (batch: Pending[]) => {
    let settled = false;
    let linked: AuditEvent[];
    try {
      linked = chain.link(batch.map((p) => p.event));
    } catch (err) {
      // An event that cannot be serialized: the chain may have advanced part-way, so it is given up.
      onSinkError(err);
      abandon(chain.head().chainId);
      failAll(batch, err);
      inFlight--;
      pump();
      return;
    }
    const head = chain.head();
    const timer = setTimeout(() => {
      if (settled) return;
      stalled = true;
      abandon(head.chainId);
      failAll(batch);
      failAll(queue.splice(0));
    }, timeoutMs);
    try {
      await sink.append(linked);
      failing = false;
      // Durable: callers not yet failed by the timeout get their answer (a settled promise ignores this).
      if (durable === null || durable.chainId !== head.chainId || durable.sequence < head.sequence) durable = head;
      for (const p of batch) p.resolve();
      try {
        options.onDurable?.(linked, head);
      } catch {
        // a follower never affects the primary trail
      }
    } catch (err) {
      failing = true;
      onSinkError(err);
      abandon(head.chainId);
      failAll(batch, err);
    } finally {
      settled = true;
      clearTimeout(timer);
      inFlight--;
      if (inFlight === 0) stalled = false;
      pump();
    }
  };

  function pump() {
    while (inFlight < maxInFlight && queue.length > 0 && !stalled) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      inFlight++;
      void send(batch);
    }
  }

  return {
    record(event) {
      if (stalled || queue.length >= maxQueue) return Promise.reject(new AuditUnavailableError());
      let redacted: AuditEvent;
      try {
        redacted = { ...event, details: redact(event.details, hmacKey()) as Record<string, unknown> };
      } catch (err) {
        return Promise.reject(new AuditUnavailableError({ cause: err }));
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ event: redacted, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
    healthy: () => !stalled && !failing,
    durableHead: () => durable,
  };
}
