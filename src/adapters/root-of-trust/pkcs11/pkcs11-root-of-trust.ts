/**
 * The `pkcs11` root of trust: the root key is a non-extractable AES-256 key object in an HSM token, and wrap and
 * unwrap are CKM_AES_GCM operations run inside the HSM (format in gcm-wrap-format.ts).
 *
 * Invariants:
 * - the root key never leaves the token; only the caller's key material and its wrapped form cross the boundary;
 * - every wrap uses a fresh random 96-bit IV from node:crypto (or the one the HSM generated and wrote back), a
 *   128-bit tag and AAD = format byte || caller AAD;
 * - every unwrap failure caused by the input (format, tag, AAD, length) is InvalidCiphertextError with its one
 *   message; everything else the module reports is DependencyError `The HSM is unavailable: CKR_….` (fail closed)
 *   and never carries the PIN, key material or plaintext;
 * - after a failure the session pool is discarded, and a later operation reconnects (C_Finalize, C_Initialize,
 *   sessions, login, key lookup) — at once the first time, then with a doubling backoff, so a dead HSM is not
 *   hammered; while backing off, operations fail at once without touching the HSM. One exception: a login refused
 *   for its PIN (CKR_PIN_INCORRECT, CKR_PIN_LOCKED, …) is not retried, because retrying the same wrong PIN can lock
 *   the HSM user; the adapter stays unavailable until `rereadPin` yields a different PIN (the operator corrected the
 *   PIN file), which is tried once like any other, or until it is reopened;
 * - a session serves one operation at a time; the pool has `sessions` of them (default 4);
 * - `signingKeys` (the SigningKeyStore port: ECDSA P-256 key pairs generated and used inside the same token, for the
 *   built-in CA and the audit checkpoints) runs on the same sessions with the same fail-closed and reconnection rules;
 *   a key pair is generated in a short-lived read-write session (token objects need one; the pool's are read-only).
 *
 * Threading: pkcs11js runs C_Encrypt and C_Decrypt on libuv's thread pool (C_EncryptAsync / C_DecryptAsync), so
 * the HSM round trip does not block the event loop; the module is initialized with CKF_OS_LOCKING_OK for that.
 * C_EncryptInit / C_DecryptInit have no asynchronous form and run on the JS thread (local, cheap calls in SoftHSM2
 * and CloudHSM), as do the rare reconnection steps and the health probe. libuv's pool has UV_THREADPOOL_SIZE
 * threads (4 by default, shared with fs and dns): more sessions than threads only queue there.
 *
 * Not covered: a call that never returns from the module (a hung network HSM) is not timed out — pkcs11js cannot
 * cancel it; it keeps its session, and re-initialization waits for it (up to a drain timeout, then fails closed).
 */
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11 } from 'pkcs11js';
import { SecretBytes, randomBytes } from '../../../crypto/index.js';
import { DataDefenderError, DependencyError, InvalidCiphertextError, ValidationError } from '../../../errors/index.js';
import type { RootOfTrust } from '../../../ports/root-of-trust.js';
import type { SigningKeyStore } from '../../../ports/signing-key-store.js';
import { destroySigningKeyPair, findSigningKey, generateSigningKeyPair, signWithKey, signingPublicKey } from './ec-signing-keys.js';
import { IV_BYTES, TAG_BYTES, encodeWrapped, gcmMechanism, parseWrapped } from './gcm-wrap-format.js';
import { asDependencyError, hsmUnavailable, isAmbiguousDecryptFailure, isCiphertextRejection, isPinRefusal } from './pkcs11-errors.js';
import { acquireModule, type SharedModule } from './pkcs11-module.js';
import { pinCopy, validateRootOfTrustOptions, type Pkcs11RootOfTrustOptions, type ValidRootOfTrustOptions } from './pkcs11-options.js';
import { closeQuietly, SessionPool } from './session-pool.js';
import { findRootKey, findSlot, handleId, login } from './token-lookup.js';

export type Pkcs11Health = 'ok' | 'unavailable';

/** A RootOfTrust backed by a PKCS#11 token, with a cheap health probe and an orderly close. */
export type Pkcs11RootOfTrust = RootOfTrust & {
  readonly kind: 'pkcs11';
  /** `ok` when the token answers and the sessions are logged in; after a failure, also tries to reconnect. */
  health(): Promise<Pkcs11Health>;
  /** Logs out (if no other user of the token remains in this process), closes the sessions, finalizes the module. */
  close(): Promise<void>;
  /** ECDSA P-256 signing keys generated and used inside the token (the CA key, the audit checkpoint key). */
  readonly signingKeys: SigningKeyStore;
};

// CK_STATE values (PKCS#11 v2.40 §5.6); pkcs11js does not export them.
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

interface Lease {
  readonly pool: SessionPool;
  readonly session: Handle;
}

interface Failure {
  /** The DependencyError message operations get until the HSM is back. */
  readonly message: string;
  /** Module generation the failure was seen in: reconnecting re-initializes the module if it is still that one. */
  readonly generation: number;
  readonly retryAt: number;
}

const closedError = () => new DependencyError('The HSM root of trust is closed.');
const MAX_LABEL_BYTES = 128;

function checkLabel(label: string): string {
  if (typeof label !== 'string' || label.length === 0 || Buffer.byteLength(label) > MAX_LABEL_BYTES) {
    throw new ValidationError(`A signing key label must be 1 to ${MAX_LABEL_BYTES} bytes.`);
  }
  return label;
}
const causeOf = (err: unknown): unknown => (err instanceof DataDefenderError && err.cause !== undefined ? err.cause : err);

class Pkcs11Root implements Pkcs11RootOfTrust {
  readonly kind = 'pkcs11' as const;
  readonly #module: SharedModule;
  readonly #options: ValidRootOfTrustOptions;
  readonly #unsubscribe: () => void;
  #pool: SessionPool | null = null;
  #failure: Failure | null = null;
  /** Failures since the last successful operation; sets the backoff. */
  #streak = 0;
  #pinRefused: string | null = null;
  #connecting: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #leases = 0;
  #leaseWaiters: Array<() => void> = [];
  #slot: { id: bigint; unclaim: () => boolean } | null = null;

  constructor(module: SharedModule, options: ValidRootOfTrustOptions) {
    this.#module = module;
    this.#options = options;
    // Another user of the module is re-initializing it: our sessions die with it; reconnect without backoff.
    this.#unsubscribe = module.onReset(() => this.#dropPool());
  }

  /** The first connection, at open: errors as they come (ValidationError for a token or key that cannot serve). */
  async connectNow(): Promise<void> {
    await this.#module.settled();
    this.#pool = this.#buildPool();
  }

  readonly signingKeys: SigningKeyStore = {
    kind: 'pkcs11',
    generate: async (label) => {
      checkLabel(label);
      return this.#run((api, _session, pool) => this.#withRwSession(pool, (rw) => generateSigningKeyPair(api, rw, label)));
    },
    publicKey: async (label) => {
      checkLabel(label);
      return this.#run(async (api, session) => signingPublicKey(api, session, label));
    },
    sign: async (label, message) => {
      checkLabel(label);
      if (!(message instanceof Uint8Array)) throw new ValidationError('The message to sign must be bytes.');
      return this.#run((api, session) => signWithKey(api, session, findSigningKey(api, session, label), message));
    },
    destroy: async (label) => {
      checkLabel(label);
      return this.#run((api, _session, pool) => this.#withRwSession(pool, async (rw) => destroySigningKeyPair(api, rw, label)));
    },
  };

  async wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array> {
    if (!(plaintext instanceof SecretBytes) || plaintext.length === 0) throw new ValidationError('The key material to wrap must be non-empty SecretBytes.');
    if (!(aad instanceof Uint8Array)) throw new ValidationError('The associated data must be bytes.');
    const lease = await this.#lease();
    const api = this.#module.api;
    let healthy = false;
    try {
      const mechanism = gcmMechanism(randomBytes(IV_BYTES), aad);
      const input = plaintext.reveal();
      api.C_EncryptInit(lease.session, mechanism, lease.pool.key);
      const sealed = await api.C_EncryptAsync(lease.session, input, Buffer.alloc(input.length + TAG_BYTES));
      // `input` and `mechanism` stay referenced until here: the worker thread read them by pointer.
      if (sealed.length !== input.length + TAG_BYTES) throw hsmUnavailable('the module returned AES-GCM output of an unexpected length');
      healthy = true;
      this.#streak = 0;
      // The IV the module used: ours, or the one an HSM such as CloudHSM generated and wrote into pIv.
      return encodeWrapped(mechanism.parameter.iv, sealed);
    } catch (err) {
      throw this.#fail(lease.pool, err);
    } finally {
      this.#release(lease, healthy);
    }
  }

  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
    const parsed = parseWrapped(wrapped);
    if (!parsed || !(aad instanceof Uint8Array)) throw new InvalidCiphertextError();
    const lease = await this.#lease();
    const api = this.#module.api;
    const out = Buffer.alloc(parsed.sealed.length);
    let healthy = false;
    try {
      const mechanism = gcmMechanism(parsed.iv, aad);
      api.C_DecryptInit(lease.session, mechanism, lease.pool.key);
      let plain: Buffer;
      try {
        plain = await api.C_DecryptAsync(lease.session, parsed.sealed, out);
      } catch (err) {
        // C_Decrypt ends the operation on these, so the session stays usable.
        if (isCiphertextRejection(err) || (isAmbiguousDecryptFailure(err) && this.#stillServing(lease))) {
          healthy = true;
          throw new InvalidCiphertextError();
        }
        throw err;
      }
      if (plain.length !== parsed.sealed.length - TAG_BYTES || mechanism.parameter.iv.length !== IV_BYTES) {
        throw hsmUnavailable('the module returned AES-GCM output of an unexpected length');
      }
      healthy = true;
      this.#streak = 0;
      return SecretBytes.adopt(plain);
    } catch (err) {
      out.fill(0);
      if (err instanceof InvalidCiphertextError) throw err;
      throw this.#fail(lease.pool, err);
    } finally {
      this.#release(lease, healthy);
    }
  }

  async health(): Promise<Pkcs11Health> {
    if (this.#closing || (this.#pinRefused && !this.#options.rereadPin)) return 'unavailable';
    const pool = this.#livePool();
    if (pool) {
      const api = this.#module.api;
      try {
        api.C_GetTokenInfo(pool.slot);
        const idle = pool.peekIdle();
        if (idle !== undefined && !isLoggedIn(api.C_GetSessionInfo(idle).state)) throw hsmUnavailable('the sessions are no longer logged in');
        return 'ok';
      } catch (err) {
        this.#fail(pool, err);
        return 'unavailable';
      }
    }
    try {
      await this.#reconnected();
      return 'ok';
    } catch {
      return 'unavailable';
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    pool?.discard();
    if (this.#leases > 0) await new Promise<void>((resolve) => this.#leaseWaiters.push(resolve));
    await this.#connecting?.catch(() => undefined);
    const last = this.#slot?.unclaim() ?? false;
    if (pool && this.#module.initialized && pool.generation === this.#module.generation) pool.closeSessions(this.#module.api, last);
    this.#unsubscribe();
    this.#options.pin.destroy();
    await this.#module.release();
  }

  /** The pool, if it can lend now: open, of the module's current generation, with no re-initialization under way. */
  #livePool(): SessionPool | null {
    const pool = this.#pool;
    const m = this.#module;
    return pool && pool.open && !this.#closing && m.initialized && !m.resetting && pool.generation === m.generation ? pool : null;
  }

  async #lease(): Promise<Lease> {
    for (;;) {
      const pool = this.#livePool() ?? (await this.#reconnected());
      const taken = pool.take();
      const session = taken instanceof Promise ? await taken : taken;
      if (session === null || !pool.open) continue; // discarded meanwhile: reconnect (or fail)
      this.#module.enter();
      this.#leases++;
      return { pool, session };
    }
  }

  /**
   * Runs `work` on a leased session. Our own verdicts (a missing or unfit key, a taken label: DataDefenderErrors
   * other than DependencyError) leave the session in the pool if the token still answers; anything else fails
   * closed like wrap and unwrap.
   */
  async #run<T>(work: (api: PKCS11, session: Handle, pool: SessionPool) => Promise<T>): Promise<T> {
    const lease = await this.#lease();
    let healthy = false;
    try {
      const result = await work(this.#module.api, lease.session, lease.pool);
      healthy = true;
      this.#streak = 0;
      return result;
    } catch (err) {
      // A key that vanished may be a token that went away (SoftHSM2 then finds no objects): the verdict stands only
      // if the token still answers.
      if (err instanceof DataDefenderError && !(err instanceof DependencyError) && this.#stillServing(lease)) {
        healthy = true;
        throw err;
      }
      throw this.#fail(lease.pool, err instanceof DataDefenderError && !(err instanceof DependencyError) ? hsmUnavailable('the token does not answer', err) : err);
    } finally {
      this.#release(lease, healthy);
    }
  }

  /** A read-write session on the pool's token for `work` (it shares the pool's login), closed after. */
  async #withRwSession<T>(pool: SessionPool, work: (session: Handle) => Promise<T>): Promise<T> {
    const api = this.#module.api;
    const session = api.C_OpenSession(pool.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      return await work(session);
    } finally {
      try {
        api.C_CloseSession(session);
      } catch {
        // The outcome of `work` matters more; a session that cannot close dies with the module.
      }
    }
  }

  #release(lease: Lease, healthy: boolean): void {
    this.#module.leave();
    this.#leases--;
    if (this.#leases === 0) for (const wake of this.#leaseWaiters.splice(0)) wake();
    if (healthy) lease.pool.give(lease.session);
  }

  async #reconnected(): Promise<SessionPool> {
    for (;;) {
      if (this.#closing) throw closedError();
      await this.#module.settled();
      const pool = this.#livePool();
      if (pool) return pool;
      this.#connecting ??= this.#connect().finally(() => {
        this.#connecting = null;
      });
      await this.#connecting;
    }
  }

  async #connect(): Promise<void> {
    if (this.#pinRefused && !(await this.#tookNewPin())) throw new DependencyError(this.#pinRefused);
    const failure = this.#failure;
    if (failure && Date.now() < failure.retryAt) throw new DependencyError(failure.message);
    try {
      if (failure) await this.#module.reinitialize(failure.generation);
      if (this.#closing) throw closedError();
      this.#pool = this.#buildPool();
      this.#failure = null;
    } catch (err) {
      const error = asDependencyError(err);
      if (isPinRefusal(causeOf(err))) {
        this.#pinRefused = `${error.message.slice(0, -1)}; the same PIN is not retried (that could lock the HSM user): correct the PIN file, or restart with the right PIN.`;
        throw new DependencyError(this.#pinRefused, { cause: err });
      }
      this.#recordFailure(error.message, this.#module.generation);
      throw error;
    }
  }

  /** After a PIN refusal: reads the PIN again and, when it differs from the refused one, makes it the PIN to try. */
  async #tookNewPin(): Promise<boolean> {
    const read = this.#options.rereadPin;
    if (!read) return false;
    let fresh: SecretBytes;
    try {
      fresh = pinCopy(await read());
    } catch {
      return false;
    }
    if (fresh.reveal().equals(this.#options.pin.reveal())) {
      fresh.destroy();
      return false;
    }
    this.#options.pin.destroy();
    this.#options.pin = fresh;
    this.#pinRefused = null;
    this.#failure = null;
    return true;
  }

  /** Turns what an operation on `pool` threw into the DependencyError to throw, and discards the pool. */
  #fail(pool: SessionPool, err: unknown): DependencyError {
    const error = asDependencyError(err);
    if (pool === this.#pool) {
      this.#dropPool();
      this.#recordFailure(error.message, pool.generation);
    }
    return error;
  }

  #recordFailure(message: string, generation: number): void {
    this.#streak++;
    const { minDelayMs, maxDelayMs } = this.#options;
    // The first reconnection is immediate (a transient session loss costs one failed operation); then it backs off.
    const delay = this.#streak <= 1 ? 0 : Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(this.#streak - 2, 30));
    this.#failure = { message, generation, retryAt: Date.now() + delay };
  }

  #dropPool(): void {
    const pool = this.#pool;
    this.#pool = null;
    pool?.discard();
  }

  /** After an ambiguous C_Decrypt failure: is the HSM still serving (then the ciphertext was at fault)? */
  #stillServing(lease: Lease): boolean {
    const api = this.#module.api;
    try {
      if (!isLoggedIn(api.C_GetSessionInfo(lease.session).state)) return false;
      api.C_GetTokenInfo(lease.pool.slot);
      return true;
    } catch {
      return false;
    }
  }

  /** Sync: finds the token, opens the sessions, logs in, finds the key. Closes what it opened if a step fails. */
  #buildPool(): SessionPool {
    const api = this.#module.api;
    this.#module.ensureInitialized();
    const generation = this.#module.generation;
    const slot = findSlot(api, this.#options.token);
    const sessions: Handle[] = [];
    try {
      for (let i = 0; i < this.#options.sessions; i++) sessions.push(api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION));
      login(api, sessions[0]!, this.#options.pin);
      const key = findRootKey(api, sessions[0]!, this.#options.keyLabel);
      const slotId = handleId(slot);
      if (this.#slot?.id !== slotId) {
        this.#slot?.unclaim();
        this.#slot = { id: slotId, unclaim: this.#module.claimSlot(slotId) };
      }
      return new SessionPool({ generation, slot, slotId, key, sessions });
    } catch (err) {
      closeQuietly(api, sessions);
      throw err instanceof DataDefenderError ? err : asDependencyError(err);
    }
  }
}

const isLoggedIn = (state: number): boolean => state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;

/**
 * Opens the pkcs11 root of trust: loads the module (shared within the process), finds the token, opens the session
 * pool, logs in as the user and finds the root key by its label.
 * @throws ValidationError (ERR_VALIDATION) for invalid options, several tokens with the label, several AES keys with
 * the key label, or a key that is not a sensitive, non-extractable AES-256 encrypt/decrypt key.
 * @throws DependencyError (ERR_DEPENDENCY) when the module cannot be loaded or initialized, the token or the key is
 * absent, the login is refused (`The HSM refused the login: CKR_PIN_INCORRECT.`) or the HSM fails.
 */
export async function openPkcs11RootOfTrust(options: Pkcs11RootOfTrustOptions): Promise<Pkcs11RootOfTrust> {
  const valid = validateRootOfTrustOptions(options);
  let module: SharedModule;
  try {
    module = acquireModule(valid.modulePath);
  } catch (err) {
    valid.pin.destroy();
    throw err;
  }
  const root = new Pkcs11Root(module, valid);
  try {
    await root.connectNow();
  } catch (err) {
    await root.close();
    throw err;
  }
  return root;
}
