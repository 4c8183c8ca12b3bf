// One loaded PKCS#11 module per library path in this process, shared by every pkcs11 root of trust and by
// createPkcs11RootKey.
//
// Why shared: dlopen hands every loader of a library the same instance, and a module is initialized once per
// process (a second C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED); C_Finalize and login state are
// process-wide too (PKCS#11 v2.40 §5.4, §5.6). So initialization is reference-counted here, a re-initialization
// after a failure is done once for all users, and the last user finalizes.
//
// Invariants: C_Finalize never runs while a call is executing in the module on a worker thread (callers bracket
// every asynchronous call with enter()/leave(), and finalization waits for them, bounded by a drain timeout);
// every user is told when a re-initialization starts so it drops its sessions; the generation number changes on
// every initialization, so sessions of an older generation are never used again. The library itself stays loaded
// once loaded (some modules do not survive dlclose); it is only finalized.
import { resolve } from 'node:path';
import pkcs11js from 'pkcs11js';
import type { PKCS11 } from 'pkcs11js';
import { DependencyError } from '../../../errors/index.js';
import { asDependencyError, isAlready } from './pkcs11-errors.js';

/** How long a re-initialization waits for calls still executing in the module before it gives up (fails closed). */
const DRAIN_TIMEOUT_MS = 10_000;
const noop = (): void => undefined;

export class SharedModule {
  readonly api: PKCS11;
  #initialized = false;
  #generation = 0;
  #users = 0;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  #resetting: Promise<void> | null = null;
  readonly #resetListeners = new Set<() => void>();
  readonly #slotUsers = new Map<bigint, number>();

  constructor(api: PKCS11) {
    this.api = api;
  }

  /** Changes on every C_Initialize; sessions and handles of another generation are dead. */
  get generation(): number {
    return this.#generation;
  }

  get initialized(): boolean {
    return this.#initialized;
  }

  get resetting(): boolean {
    return this.#resetting !== null;
  }

  /** Resolves when no re-initialization is under way (whether it succeeded or not). */
  settled(): Promise<void> {
    return this.#resetting ? this.#resetting.then(noop, noop) : Promise.resolve();
  }

  /** Marks a call that may execute in the module outside the JS thread; pair with leave(). */
  enter(): void {
    this.#inFlight++;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** `listener` runs when a re-initialization starts (its user must drop every session). Returns the unsubscriber. */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** Counts a user of `slotId`; returns an unclaim function that answers whether it was the slot's last user. */
  claimSlot(slotId: bigint): () => boolean {
    this.#slotUsers.set(slotId, (this.#slotUsers.get(slotId) ?? 0) + 1);
    let claimed = true;
    return () => {
      if (!claimed) return false;
      claimed = false;
      const left = (this.#slotUsers.get(slotId) ?? 1) - 1;
      if (left === 0) this.#slotUsers.delete(slotId);
      else this.#slotUsers.set(slotId, left);
      return left === 0;
    };
  }

  /**
   * C_Initialize if the module is not initialized (also after a failed re-initialization). Synchronous.
   * @throws DependencyError (ERR_DEPENDENCY) when the module refuses to initialize.
   */
  ensureInitialized(): void {
    if (this.#initialized) return;
    try {
      // CKF_OS_LOCKING_OK: pkcs11js runs C_Encrypt/C_Decrypt on libuv worker threads, concurrently.
      this.api.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (err) {
      if (!isAlready(err, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw asDependencyError(err);
    }
    this.#initialized = true;
    this.#generation++;
  }

  /**
   * Finalizes the module after a failure seen in generation `observed`, once for all users: if another user already
   * re-initialized it, this only waits for that. Call ensureInitialized() afterwards.
   * @throws DependencyError (ERR_DEPENDENCY) when calls are still executing in the module after the drain timeout.
   */
  async reinitialize(observed: number): Promise<void> {
    if (this.#resetting) return this.#resetting;
    if (!this.#initialized || this.#generation !== observed) return;
    for (const listener of this.#resetListeners) listener();
    this.#resetting = (async () => {
      await this.#drain();
      this.#finalize();
    })().finally(() => {
      this.#resetting = null;
    });
    return this.#resetting;
  }

  /** Adds a user; the first one initializes the module. @throws DependencyError (ERR_DEPENDENCY). */
  acquire(): void {
    this.#users++;
    try {
      this.ensureInitialized();
    } catch (err) {
      this.#users--;
      throw err;
    }
  }

  /** Removes a user; the last one finalizes the module once no call executes in it. */
  async release(): Promise<void> {
    this.#users--;
    if (this.#users > 0) return;
    await this.settled();
    try {
      await this.#drain();
    } catch {
      return; // a call never came back: finalizing under it could crash the process; leave the module as it is.
    }
    if (this.#users === 0) this.#finalize();
  }

  #finalize(): void {
    if (!this.#initialized) return;
    this.#initialized = false;
    try {
      this.api.C_Finalize();
    } catch {
      // The module is being dropped because it failed; its answer to C_Finalize changes nothing.
    }
  }

  async #drain(): Promise<void> {
    if (this.#inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((done) => this.#idleWaiters.push(() => done(true)));
    const timedOut = new Promise<boolean>((done) => {
      timer = setTimeout(() => done(false), DRAIN_TIMEOUT_MS);
      timer.unref();
    });
    const ok = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!ok) throw new DependencyError(`The HSM is unavailable: ${this.#inFlight} operation(s) did not return from the PKCS#11 module.`);
  }
}

const modules = new Map<string, SharedModule>();

/**
 * The process's module for `modulePath`, loaded on first use, with one more user (initialized).
 * Pair with release().
 * @throws DependencyError (ERR_DEPENDENCY) when the library cannot be loaded or initialized.
 */
export function acquireModule(modulePath: string): SharedModule {
  const path = resolve(modulePath);
  let shared = modules.get(path);
  if (!shared) {
    const api = new pkcs11js.PKCS11();
    try {
      api.load(path);
    } catch (err) {
      throw new DependencyError(`The PKCS#11 module ${path} cannot be loaded.`, { cause: err });
    }
    shared = new SharedModule(api);
    modules.set(path, shared);
  }
  shared.acquire();
  return shared;
}
