// The sessions one connection of the pkcs11 root of trust (or of an HSM key store) lends to operations, with the
// slot and key handles they go with (`K`: the root key's handle, or a key store's handle cache).
// Invariants: a session serves one operation at a time (PKCS#11 allows one active operation per session); a session
// is handed to the first waiter when it comes back (FIFO, so no operation starves); once discarded, the pool lends
// nothing more, wakes every waiter with null (they go and reconnect) and drops sessions that come back — the
// module's re-initialization or the adapter's close() closes them.
import type { Handle, PKCS11 } from 'pkcs11js';

/** Closes `sessions`, skipping any already gone with the token or the module (what is being reported matters more). */
export function closeQuietly(api: PKCS11, sessions: readonly Handle[]): void {
  for (const session of sessions) {
    try {
      api.C_CloseSession(session);
    } catch {
      // Already gone.
    }
  }
}

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

  /**
   * Closes every session of the pool in the token, logging out first when `logout` (the last user of the slot's
   * login); best effort: a session already gone with the token or the module is skipped.
   */
  closeSessions(api: PKCS11, logout: boolean): void {
    try {
      if (logout) api.C_Logout(this.sessions[0]!);
    } catch {
      // Closing anyway: the last session's close ends the login too.
    }
    closeQuietly(api, this.sessions);
  }

  /** Stops lending; every waiter gets null. */
  discard(): void {
    this.#open = false;
    this.#free.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}
