// The sessions one connection of the pkcs11 root of trust (or of an HSM key store) lends to operations, with the
// slot and key handles they go with (`K`: the root key's handle, or a key store's handle cache).
// Invariants: a session serves one operation at a time (PKCS#11 allows one active operation per session); a session
// is handed to the first waiter when it comes back (FIFO, so no operation starves); once discarded, the pool lends
// nothing more, wakes every waiter with null (they go and reconnect) and drops sessions that come back — the
// module's re-initialization or the adapter's close() closes them.
import type { Handle } from 'pkcs11js';

export class SessionPool<K = Handle> {
  readonly generation: number;
  readonly slot: Handle;
  readonly slotId: bigint;
  readonly key: K;
  /** Every session of the pool, lent or not. */
  readonly sessions: readonly Handle[];
  readonly #free: Handle[];
  readonly #waiters: Array<(session: Handle | null) => void> = [];
  #open = true;

  constructor(init: { generation: number; slot: Handle; slotId: bigint; key: K; sessions: Handle[] }) {
    this.generation = init.generation;
    this.slot = init.slot;
    this.slotId = init.slotId;
    this.key = init.key;
    this.sessions = [...init.sessions];
    this.#free = [...init.sessions];
  }

  get open(): boolean {
    return this.#open;
  }

  /** A free session: at once if there is one, else when one comes back; null if the pool is discarded meanwhile. */
  take(): Handle | null | Promise<Handle | null> {
    if (!this.#open) return null;
    const session = this.#free.pop();
    if (session !== undefined) return session;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A session that is not lent, for a health probe (it stays in the pool). */
  peekIdle(): Handle | undefined {
    return this.#free[this.#free.length - 1];
  }

  /** Gives a session back after a successful operation (or one that failed only because of its input). */
  give(session: Handle): void {
    if (!this.#open) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter(session);
    else this.#free.push(session);
  }

  /** Stops lending; every waiter gets null. */
  discard(): void {
    this.#open = false;
    this.#free.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}
