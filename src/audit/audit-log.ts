/**
 * The fail-closed audit log in front of an AuditSink.
 * Invariants: `record` resolves only after the event is durable in the sink; appends are group-committed
 * (events queued while earlier batches are being written go out together in the next batch), with up to
 * `maxInFlight` batches handed to the sink in order, so the sink's commit latency is not paid in series;
 * a caller never waits longer than `timeoutMs`: a slow or failing sink makes `record` reject with
 * AuditUnavailableError, and so does a full queue.
 */
import { AuditUnavailableError } from '../errors/index.js';
import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** False while the sink is failing or stalled (for health). */
  healthy(): boolean;
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
  maxInFlight?: number;
  /** Called with the sink's error (for the operator log; never sent to clients). */
  onSinkError?: (err: unknown) => void;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { sink, timeoutMs = 5_000, maxBatch = 1_000, maxQueue = 50_000, maxInFlight = 8, onSinkError = () => {} } = options;
  let queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  let stalled = false;
  let failing = false;

  const failAll = (entries: Pending[], cause?: unknown) => {
    for (const p of entries) p.reject(new AuditUnavailableError({ cause }));
  };

  const send = async (batch: Pending[]) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      stalled = true;
      failAll(batch);
      failAll(queue.splice(0));
    }, timeoutMs);
    try {
      await sink.append(batch.map((p) => p.event));
      failing = false;
      if (!stalled) for (const p of batch) p.resolve();
    } catch (err) {
      failing = true;
      onSinkError(err);
      if (!stalled) failAll(batch, err);
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
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject });
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
  };
}
