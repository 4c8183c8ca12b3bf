/**
 * Requests to one of the SQLite threads (audit-writer.ts, wal-checkpointer.ts), each answered once.
 * Invariants: every request carries a fresh `id` and the thread answers `{ id, ok, error? }` exactly once;
 * `ok` resolves the request, anything else rejects it with `refused(error)`; once the thread fails or exits,
 * every pending and every later request rejects with the same `died(cause)` error.
 */
import type { Worker } from 'node:worker_threads';

export interface ThreadRequests {
  /** Posts `message` with a fresh `id`; resolves when the thread answers ok. */
  request(message: Record<string, unknown>): Promise<void>;
}

export function threadRequests(
  worker: Worker,
  errors: { name: string; refused: (code: string) => Error; died: (cause: unknown) => Error },
): ThreadRequests {
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (cause: unknown) => {
    failure ??= errors.died(cause);
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  worker.on('message', (m: { id: number; ok: boolean; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve();
    else p.reject(errors.refused(m.error ?? 'ERROR'));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`${errors.name} exited with code ${code}`)));
  return {
    request(message) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ ...message, id });
      });
    },
  };
}
