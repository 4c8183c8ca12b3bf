/**
 * The HSM key store over PKCS#11 (custom key stores, AWS CloudHSM key store model): a store's CloudHsmClusterId is
 * the label of a token, its KeyStorePassword the token's user PIN; each KMS key is an AES-256 token object made by
 * C_GenerateKey inside the HSM, and Encrypt/Decrypt are CKM_AES_GCM operations run inside it.
 *
 * Invariants:
 * - key objects are generated in the token with the root key's template (create-root-key.ts: private, sensitive,
 *   not extractable, encrypt/decrypt only) plus a CKA_ID; their material never leaves the HSM;
 * - every encryption uses a fresh random 96-bit IV from node:crypto (or the one an HSM such as CloudHSM generates and
 *   writes back, read from the same buffer) and a 128-bit tag; the IV is never caller-supplied;
 * - a decryption refused because of its input is InvalidCiphertextError (one message); every other failure is a
 *   DependencyError naming only the CKR_* code and the token label, never the PIN or data;
 * - the login is strict: a token already logged in by someone else in this process is refused (USER_LOGGED_IN), as a
 *   wrong PIN would otherwise pass unnoticed; a refused PIN is never retried (that could lock the user);
 * - after a failure the sessions are dropped and the next operation reconnects (module re-initialization shared with
 *   the pkcs11 root of trust through pkcs11-module.ts), at once the first time, then with a doubling backoff.
 */
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11 } from 'pkcs11js';
import { SecretBytes, randomBytes } from '../../crypto/index.js';
import { AlreadyExistsError, DataDefenderError, DependencyError, InvalidCiphertextError, ValidationError } from '../../errors/index.js';
import type { KeyObjectRef, KeyStoreConnection, KeyStoreConnectionError, KeyStoreConnector, KeyStoreOpenResult } from '../../ports/key-store.js';
import { rootKeyTemplate } from '../root-of-trust/pkcs11/create-root-key.js';
import { IV_BYTES, TAG_BYTES, gcmParams } from '../root-of-trust/pkcs11/gcm-wrap-format.js';
import { asDependencyError, ckrName, hsmUnavailable, isAmbiguousDecryptFailure, isCiphertextRejection } from '../root-of-trust/pkcs11/pkcs11-errors.js';
import { acquireModule, type SharedModule } from '../root-of-trust/pkcs11/pkcs11-module.js';
import { closeQuietly, SessionPool } from '../root-of-trust/pkcs11/session-pool.js';
import { findObjects, handleId } from '../root-of-trust/pkcs11/token-lookup.js';

export interface Pkcs11KeyStoreOptions {
  /** Path of the PKCS#11 library (config `pkcs11Module`). */
  modulePath: string;
  /** Sessions per store connection (default 4). */
  sessions?: number;
}

/** A failed (re)connection, with the AWS ConnectionErrorCode it stands for. */
class ConnectFailure extends DependencyError {
  constructor(
    readonly connectionError: KeyStoreConnectionError,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const PIN_REFUSED = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_EXPIRED']);
const HANDLE_GONE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID']);
// CK_STATE values (PKCS#11 v2.40 §5.6) of logged-in user sessions.
const isLoggedIn = (state: number): boolean => state === 1 || state === 3;

/** Slots whose token carries `label` (present tokens only). */
function slotsLabelled(api: PKCS11, label: string): Handle[] {
  return api.C_GetSlotList(true).filter((slot) => {
    try {
      return api.C_GetTokenInfo(slot).label.trimEnd() === label;
    } catch {
      return false;
    }
  });
}

const keyTemplate = (ref: KeyObjectRef) => [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  { type: pkcs11js.CKA_ID, value: Buffer.from(ref.id) },
  { type: pkcs11js.CKA_LABEL, value: ref.label },
];

type Pool = SessionPool<Map<string, Handle>>;

class Pkcs11KeyStoreConnection implements KeyStoreConnection {
  readonly #module: SharedModule;
  readonly #label: string;
  readonly #pin: SecretBytes;
  readonly #sessions: number;
  readonly #unsubscribe: () => void;
  #pool: Pool | null = null;
  #failure: { message: string; generation: number; retryAt: number } | null = null;
  #streak = 0;
  #refused: ConnectFailure | null = null;
  #connecting: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #leases = 0;
  #leaseWaiters: Array<() => void> = [];
  #slot: { id: bigint; unclaim: () => boolean } | null = null;

  constructor(module: SharedModule, label: string, pin: SecretBytes, sessions: number) {
    this.#module = module;
    this.#label = label;
    this.#pin = pin;
    this.#sessions = sessions;
    this.#unsubscribe = module.onReset(() => this.#dropPool());
  }

  async connectNow(): Promise<void> {
    await this.#module.settled();
    this.#pool = this.#buildPool();
  }

  createKey(ref: KeyObjectRef): Promise<void> {
    return this.#withSession(async (api, session, pool) => {
      const existing = [
        ...findObjects(api, session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(ref.id) }], 1),
        ...findObjects(api, session, [{ type: pkcs11js.CKA_LABEL, value: ref.label }], 1),
      ];
      if (existing.length > 0) throw new AlreadyExistsError(`The token already holds an object labelled "${ref.label}".`);
      const template = [...rootKeyTemplate(ref.label), { type: pkcs11js.CKA_ID, value: Buffer.from(ref.id) }];
      const handle = await api.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, template);
      pool.key.set(Buffer.from(ref.id).toString('hex'), handle);
    });
  }

  encrypt(ref: KeyObjectRef, plaintext: Uint8Array, aad: Uint8Array): Promise<{ iv: Buffer; sealed: Buffer }> {
    return this.#withSession(async (api, session, pool) => {
      const key = this.#find(api, session, pool, ref, true)!;
      const mechanism = gcmParams(randomBytes(IV_BYTES), Buffer.from(aad));
      const input = Buffer.from(plaintext);
      api.C_EncryptInit(session, mechanism, key);
      const sealed = await api.C_EncryptAsync(session, input, Buffer.alloc(input.length + TAG_BYTES));
      input.fill(0);
      if (sealed.length !== plaintext.length + TAG_BYTES || mechanism.parameter.iv.length !== IV_BYTES) {
        throw hsmUnavailable('the module returned AES-GCM output of an unexpected length');
      }
      return { iv: Buffer.from(mechanism.parameter.iv), sealed: Buffer.from(sealed) };
    });
  }

  decrypt(ref: KeyObjectRef, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) return Promise.reject(new InvalidCiphertextError());
    return this.#withSession(async (api, session, pool) => {
      const key = this.#find(api, session, pool, ref, true)!;
      const mechanism = gcmParams(Buffer.from(iv), Buffer.from(aad));
      const out = Buffer.alloc(sealed.length);
      api.C_DecryptInit(session, mechanism, key);
      try {
        const plain = await api.C_DecryptAsync(session, Buffer.from(sealed), out);
        if (plain.length !== sealed.length - TAG_BYTES) throw hsmUnavailable('the module returned AES-GCM output of an unexpected length');
        return plain;
      } catch (err) {
        out.fill(0);
        // C_Decrypt ends the operation on these, so the session stays usable.
        if (isCiphertextRejection(err) || (isAmbiguousDecryptFailure(err) && this.#stillServing(api, session, pool))) throw new InvalidCiphertextError();
        throw err;
      }
    });
  }

  destroyKey(ref: KeyObjectRef): Promise<boolean> {
    return this.#withSession((api, session, pool) => {
      const key = this.#find(api, session, pool, ref, false);
      if (key === undefined) return Promise.resolve(false);
      api.C_DestroyObject(session, key);
      pool.key.delete(Buffer.from(ref.id).toString('hex'));
      return Promise.resolve(true);
    });
  }

  generateRandom(bytes: number): Promise<Buffer> {
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 1024) return Promise.reject(new ValidationError('NumberOfBytes must be 1 to 1024.'));
    return this.#withSession((api, session) => Promise.resolve(Buffer.from(api.C_GenerateRandom(session, Buffer.alloc(bytes)))));
  }

  async health(): Promise<'ok' | KeyStoreConnectionError> {
    if (this.#closing) return 'INTERNAL_ERROR';
    if (this.#refused) return this.#refused.connectionError;
    const pool = this.#livePool();
    if (pool) {
      try {
        this.#module.api.C_GetTokenInfo(pool.slot);
        const idle = pool.peekIdle();
        if (idle !== undefined && !isLoggedIn(this.#module.api.C_GetSessionInfo(idle).state)) throw hsmUnavailable('the sessions are no longer logged in');
        return 'ok';
      } catch (err) {
        this.#fail(pool, err);
      }
    }
    try {
      await this.#reconnected();
      return 'ok';
    } catch (err) {
      return err instanceof ConnectFailure ? err.connectionError : 'NETWORK_ERRORS';
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
    this.#pin.destroy();
    await this.#module.release();
  }

  /** The key object's handle (cached per connection generation); undefined when absent and not `required`. */
  #find(api: PKCS11, session: Handle, pool: Pool, ref: KeyObjectRef, required: boolean): Handle | undefined {
    const name = Buffer.from(ref.id).toString('hex');
    const cached = pool.key.get(name);
    if (cached) return cached;
    const found = findObjects(api, session, keyTemplate(ref), 2);
    if (found.length > 1) throw new DependencyError(`The token "${this.#label}" holds more than one key object labelled "${ref.label}".`);
    if (found.length === 0) {
      if (required) throw new DependencyError(`The token "${this.#label}" holds no key object labelled "${ref.label}".`);
      return undefined;
    }
    pool.key.set(name, found[0]!);
    return found[0]!;
  }

  /** Runs `work` on a leased session; failures that are not the input's fault drop the sessions (fail closed). */
  async #withSession<T>(work: (api: PKCS11, session: Handle, pool: Pool) => Promise<T>): Promise<T> {
    const pool = await this.#reconnected();
    const taken = pool.take();
    const session = taken instanceof Promise ? await taken : taken;
    if (session === null || !pool.open) return this.#withSession(work);
    this.#module.enter();
    this.#leases++;
    let healthy = false;
    try {
      const result = await work(this.#module.api, session, pool);
      healthy = true;
      this.#streak = 0;
      return result;
    } catch (err) {
      if (err instanceof DataDefenderError && !(err instanceof DependencyError)) {
        healthy = true; // refused input (ciphertext, existing object): the session is fine
        throw err;
      }
      if (HANDLE_GONE.has(ckrName(err) ?? '')) {
        pool.key.clear(); // the object went away (destroyed by another process): look it up again next time
        healthy = true;
        throw new DependencyError(`The token "${this.#label}" no longer holds the key object.`, { cause: err });
      }
      if (err instanceof DependencyError && err.cause === undefined) {
        healthy = true; // our own verdict (an object missing or duplicated), not a failing HSM
        throw err;
      }
      throw this.#fail(pool, err);
    } finally {
      this.#module.leave();
      this.#leases--;
      if (this.#leases === 0) for (const wake of this.#leaseWaiters.splice(0)) wake();
      if (healthy) pool.give(session);
    }
  }

  #livePool(): Pool | null {
    const pool = this.#pool;
    const m = this.#module;
    return pool && pool.open && !this.#closing && m.initialized && !m.resetting && pool.generation === m.generation ? pool : null;
  }

  async #reconnected(): Promise<Pool> {
    for (;;) {
      if (this.#closing) throw new DependencyError('The custom key store connection is closed.');
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
    if (this.#refused) throw this.#refused;
    const failure = this.#failure;
    if (failure && Date.now() < failure.retryAt) throw new DependencyError(failure.message);
    try {
      if (failure) await this.#module.reinitialize(failure.generation);
      this.#pool = this.#buildPool();
      this.#failure = null;
    } catch (err) {
      if (err instanceof ConnectFailure && (err.connectionError === 'INVALID_CREDENTIALS' || err.connectionError === 'USER_LOCKED_OUT')) {
        this.#refused = err;
        throw err;
      }
      const error = asDependencyError(err);
      this.#record(error.message, this.#module.generation);
      throw err instanceof ConnectFailure ? err : error;
    }
  }

  #fail(pool: Pool, err: unknown): DependencyError {
    const error = asDependencyError(err);
    if (pool === this.#pool) {
      this.#dropPool();
      this.#record(error.message, pool.generation);
    }
    return error;
  }

  #record(message: string, generation: number): void {
    this.#streak++;
    const delay = this.#streak <= 1 ? 0 : Math.min(10_000, 200 * 2 ** Math.min(this.#streak - 2, 30));
    this.#failure = { message, generation, retryAt: Date.now() + delay };
  }

  #dropPool(): void {
    const pool = this.#pool;
    this.#pool = null;
    pool?.discard();
  }

  #stillServing(api: PKCS11, session: Handle, pool: Pool): boolean {
    try {
      if (!isLoggedIn(api.C_GetSessionInfo(session).state)) return false;
      api.C_GetTokenInfo(pool.slot);
      return true;
    } catch {
      return false;
    }
  }

  /** Sync: finds the token, opens read-write sessions, logs in strictly. Closes what it opened if a step fails. */
  #buildPool(): Pool {
    const api = this.#module.api;
    try {
      this.#module.ensureInitialized();
    } catch (err) {
      throw new ConnectFailure('INTERNAL_ERROR', `The PKCS#11 module cannot be initialized: ${ckrName(err) ?? 'it failed'}.`, { cause: err });
    }
    const generation = this.#module.generation;
    let slots: Handle[];
    try {
      slots = slotsLabelled(api, this.#label);
    } catch (err) {
      throw new ConnectFailure('NETWORK_ERRORS', `The HSM is unavailable: ${ckrName(err) ?? 'the PKCS#11 module failed'}.`, { cause: err });
    }
    if (slots.length !== 1) {
      throw new ConnectFailure('CLUSTER_NOT_FOUND', slots.length === 0 ? `No token labelled "${this.#label}" is present.` : `${slots.length} tokens are labelled "${this.#label}".`);
    }
    const slot = slots[0]!;
    const sessions: Handle[] = [];
    try {
      for (let i = 0; i < this.#sessions; i++) sessions.push(api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      try {
        api.C_Login(sessions[0]!, pkcs11js.CKU_USER, this.#pin.reveal().toString('utf8'));
      } catch (err) {
        const name = ckrName(err) ?? 'the PKCS#11 module failed';
        if (PIN_REFUSED.has(name)) throw new ConnectFailure('INVALID_CREDENTIALS', `The token "${this.#label}" refused the login: ${name}.`, { cause: err });
        if (name === 'CKR_PIN_LOCKED') throw new ConnectFailure('USER_LOCKED_OUT', `The token "${this.#label}" refused the login: ${name}.`, { cause: err });
        if (name === 'CKR_USER_ALREADY_LOGGED_IN') {
          throw new ConnectFailure('USER_LOGGED_IN', `The token "${this.#label}" is logged in by another user of this process; a custom key store needs a token of its own.`, { cause: err });
        }
        throw new ConnectFailure('NETWORK_ERRORS', `The token "${this.#label}" refused the login: ${name}.`, { cause: err });
      }
      const slotId = handleId(slot);
      if (this.#slot?.id !== slotId) {
        this.#slot?.unclaim();
        this.#slot = { id: slotId, unclaim: this.#module.claimSlot(slotId) };
      }
      return new SessionPool({ generation, slot, slotId, key: new Map<string, Handle>(), sessions });
    } catch (err) {
      closeQuietly(api, sessions);
      if (err instanceof ConnectFailure) throw err;
      throw new ConnectFailure('NETWORK_ERRORS', `The HSM is unavailable: ${ckrName(err) ?? 'the PKCS#11 module failed'}.`, { cause: err });
    }
  }
}

/**
 * The connector main.ts hands the core: opens a connection per custom key store on the process's shared module.
 * @throws (from exists) DependencyError when the module cannot be loaded or asked.
 */
export function createPkcs11KeyStoreConnector(options: Pkcs11KeyStoreOptions): KeyStoreConnector {
  const sessions = options.sessions ?? 4;
  if (!Number.isSafeInteger(sessions) || sessions < 1 || sessions > 256) throw new ValidationError('Key store sessions must be an integer from 1 to 256.');
  return {
    async exists(clusterId) {
      const module = acquireModule(options.modulePath);
      try {
        await module.settled();
        module.ensureInitialized();
        return slotsLabelled(module.api, clusterId).length > 0;
      } catch (err) {
        throw asDependencyError(err);
      } finally {
        await module.release();
      }
    },

    async open(clusterId, pin): Promise<KeyStoreOpenResult> {
      let module: SharedModule;
      try {
        module = acquireModule(options.modulePath);
      } catch {
        return { ok: false, error: 'INTERNAL_ERROR' };
      }
      const connection = new Pkcs11KeyStoreConnection(module, clusterId, SecretBytes.copyOf(pin.reveal()), sessions);
      try {
        await connection.connectNow();
        return { ok: true, connection };
      } catch (err) {
        await connection.close();
        return { ok: false, error: err instanceof ConnectFailure ? err.connectionError : 'NETWORK_ERRORS' };
      }
    },
  };
}
