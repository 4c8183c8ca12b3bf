/**
 * The `local-sealed` root of trust: a 256-bit root key kept in a seal file, sealed under an unseal key that exists
 * only as Shamir shares held by operators (M of N). It opens sealed; operators unseal it share by share.
 *
 * Invariants:
 * - while sealed, wrap and unwrap throw SealedError (`DataDefender is sealed; unseal it with operator unseal.`);
 *   `seal()` zeroes the root key at once and ends any unseal attempt, and an unseal that was combining shares when
 *   it was called does not take effect;
 * - unsealed, wrap and unwrap are AES-256-GCM under the root key with the caller's AAD (crypto/key-wrap); every
 *   unwrap failure is InvalidCiphertextError;
 * - the root key is in memory only between a successful unseal and the next `seal()`; the unseal key only while
 *   shares are combined; submitted shares only until their attempt completes, fails, is reset or the root is
 *   sealed — all zeroed then;
 * - the first share of an attempt starts it and draws a random nonce; every later share must carry it; a malformed
 *   share, a share of another seal or share set, or a share already in is refused without changing the attempt;
 * - when `threshold` shares are in, they are combined: if the sealed root fails its GCM tag the attempt is reset and
 *   the error does not say which share was wrong (nobody can tell);
 * - rekey needs `threshold` current shares, re-seals the same root key under a new unseal key, bumps the share set
 *   (older shares are refused from then on) and replaces the file atomically; it never changes sealed or unsealed;
 * - root key generations (rotate-root): further root keys are sealed in the same file under the same unseal key,
 *   which is therefore kept in memory while unsealed (and zeroed with the root keys at seal()); `wrap`/`unwrap`
 *   always use root key 1, `rootKeyView(n)` root key n; a rekey seals every root key under the new unseal key.
 */
import { type SecretBytes, randomSecret, randomUuid, unwrapKey, wrapKey } from '../../../crypto/index.js';
import { ConflictError, NotFoundError, SealedError, ValidationError } from '../../../errors/index.js';
import type { RootOfTrust, SealableRoot, SealStatus } from '../../../ports/root-of-trust.js';
import { type SealFile, readSealFile, replaceSealFile } from './seal-file.js';
import { ROOT_KEY_BYTES, type OpenedSeal, destroyOpenedSeal, openSeal, sealRootKey, sealWithNewShares } from './root-seal.js';
import { type ParsedShare, parseShare, sealPrefixOf } from './share-format.js';
import { shareX } from './shamir.js';
import { type ShareOptions, validateShareOptions } from './share-options.js';
import { UnsealAttempt } from './unseal-attempt.js';

export const SEALED_MESSAGE = 'DataDefender is sealed; unseal it with operator unseal.';

/** The local-sealed root of trust: a RootOfTrust that operators seal, unseal and rekey. */
export interface LocalSealedRoot extends SealableRoot {
  readonly kind: 'local-sealed';
  /** The seal's id (its first 8 hex digits name it in every share). */
  readonly sealId: string;
  /**
   * Submits one unseal share; `nonce` is required for every share after the first of an attempt (see status()).
   * @throws ValidationError (ERR_VALIDATION) for a malformed or mistyped share, a share of another seal or share set,
   * or when the shares of a complete attempt do not unseal (the attempt is then reset).
   * @throws ConflictError (ERR_CONFLICT) for a missing or wrong nonce, a share already submitted, an unsealed root, or
   * a seal or reset that happened while the shares were combined.
   */
  submitShare(share: string, nonce?: string): Promise<SealStatus>;
  /**
   * New shares for the same root key; the current ones (at least `threshold` of them in `currentShares`) stop working.
   * @throws ValidationError (ERR_VALIDATION) for share options out of range, too few, malformed, duplicate or wrong shares.
   * @throws ConflictError (ERR_CONFLICT) when another rekey is under way or the seal file changed since it was opened.
   */
  rekey(currentShares: readonly string[], options: ShareOptions): Promise<string[]>;
  /** Root key numbers in the seal file: 1, then one per rotate-root. */
  readonly rootKeys: readonly number[];
  /**
   * A RootOfTrust over root key `n` (SealedError while sealed, like the root itself).
   * @throws NotFoundError (ERR_NOT_FOUND) when the seal file has no root key `n`.
   */
  rootKeyView(n: number): RootOfTrust;
  /**
   * rotate-root: a new random root key, sealed under the same unseal key into the seal file (replaced atomically).
   * @throws SealedError while sealed; ConflictError when the seal file changed since it was opened or a rekey runs.
   */
  addRootKey(): Promise<number>;
}

/** Whether `root` is a local-sealed root with its root keys (in this process, or a worker's view of the primary's). */
export function isLocalSealedRoot(root: unknown): root is LocalSealedRoot {
  const r = root as Partial<LocalSealedRoot> | null | undefined;
  return r?.kind === 'local-sealed' && typeof r.rootKeyView === 'function' && typeof r.addRootKey === 'function';
}

class SealedRoot implements LocalSealedRoot {
  readonly kind = 'local-sealed' as const;
  readonly #file: string;
  #seal: SealFile;
  /** The seal file's text as this root last read or wrote it, to notice another writer before a rekey. */
  #text: string;
  #opened: OpenedSeal | null = null;
  #attempt: UnsealAttempt | null = null;
  /** Bumped by seal() and resetUnseal(): an unseal combining shares across a bump is discarded. */
  #epoch = 0;
  #rekeying = false;

  constructor(file: string, seal: SealFile, text: string) {
    this.#file = file;
    this.#seal = seal;
    this.#text = text;
  }

  get sealId(): string {
    return this.#seal.id;
  }

  status(): SealStatus {
    return {
      sealed: this.#opened === null,
      threshold: this.#seal.threshold,
      shares: this.#seal.shares,
      progress: this.#attempt?.size ?? 0,
      nonce: this.#attempt?.nonce ?? null,
    };
  }

  async wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array> {
    return wrapKey(this.#unsealedKey(1), plaintext, aad);
  }

  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
    return unwrapKey(this.#unsealedKey(1), wrapped, aad);
  }

  get rootKeys(): readonly number[] {
    return [1, ...(this.#seal.rootKeys ?? []).map((e) => e.rootKey)];
  }

  rootKeyView(n: number): RootOfTrust {
    if (!this.rootKeys.includes(n)) throw new NotFoundError(`The seal file has no root key ${n}.`);
    return {
      kind: 'local-sealed',
      wrap: async (plaintext, aad) => wrapKey(this.#unsealedKey(n), plaintext, aad),
      unwrap: async (wrapped, aad) => unwrapKey(this.#unsealedKey(n), wrapped, aad),
    };
  }

  async addRootKey(): Promise<number> {
    const opened = this.#opened;
    if (opened === null) throw new SealedError(SEALED_MESSAGE);
    if (this.#rekeying) throw new ConflictError('A rekey is under way; add the root key after it.');
    this.#rekeying = true;
    const key = randomSecret(ROOT_KEY_BYTES);
    try {
      const seal = this.#seal;
      const { text: onDisk } = await readSealFile(this.#file);
      if (onDisk !== this.#text) throw new ConflictError('The seal file changed since DataDefender opened it; restart DataDefender before rotating the root. Nothing was changed.');
      const n = this.rootKeys.length + 1;
      const entry = sealRootKey(opened.unsealKey, seal, n, key, new Date().toISOString());
      const next: SealFile = { ...seal, rootKeys: [...(seal.rootKeys ?? []), entry] };
      this.#text = await replaceSealFile(this.#file, next);
      this.#seal = next;
      if (this.#opened === opened) opened.rootKeys.set(n, key);
      else key.destroy();
      return n;
    } catch (err) {
      key.destroy();
      throw err;
    } finally {
      this.#rekeying = false;
    }
  }

  #unsealedKey(n: number): SecretBytes {
    const key = this.#opened?.rootKeys.get(n);
    if (this.#opened === null) throw new SealedError(SEALED_MESSAGE);
    if (key === undefined) throw new NotFoundError(`The seal file has no root key ${n}.`);
    return key;
  }

  /** Parses `text` and checks it is a share of this seal's current share set; the caller owns the returned bytes. */
  #parseOwnShare(text: string): ParsedShare {
    const share = parseShare(text);
    const seal = this.#seal;
    const mine = sealPrefixOf(seal.id);
    let problem: string | null = null;
    if (share.sealPrefix !== mine) {
      problem = `This share belongs to another seal (${share.sealPrefix}); this root's seal is ${mine}.`;
    } else if (share.generation < seal.generation) {
      problem = `This share is from share set ${share.generation}, which a rekey replaced; the current shares are set ${seal.generation}.`;
    } else if (share.generation > seal.generation) {
      problem = `This share is from share set ${share.generation}, but the seal file is at set ${seal.generation}; was the seal file restored from an older copy?`;
    }
    if (problem !== null) {
      share.bytes.fill(0);
      throw new ValidationError(problem);
    }
    return share;
  }

  async submitShare(share: string, nonce?: string): Promise<SealStatus> {
    if (this.#opened !== null) throw new ConflictError('DataDefender is already unsealed.');
    if (nonce !== undefined && typeof nonce !== 'string') throw new ValidationError('The unseal nonce must be a string.');
    const current = this.#attempt;
    if (current === null && nonce !== undefined) {
      throw new ConflictError('No unseal attempt is under way: the one with that nonce has ended (unsealed, failed, reset or sealed). Submit a share without a nonce to start a new attempt.');
    }
    if (current !== null && nonce === undefined) {
      throw new ConflictError(`An unseal attempt is under way (nonce ${current.nonce}); submit the share with that nonce, or reset the attempt.`);
    }
    if (current !== null && nonce !== current.nonce) {
      throw new ConflictError(`The nonce does not match the unseal attempt under way (nonce ${current.nonce}).`);
    }
    const parsed = this.#parseOwnShare(share);
    const attempt = current ?? new UnsealAttempt(randomUuid());
    attempt.add(parsed.bytes);
    this.#attempt = attempt;
    if (attempt.size < this.#seal.threshold) return this.status();

    // The attempt is complete: it ends here whatever the outcome.
    this.#attempt = null;
    const shares = attempt.take();
    const epoch = this.#epoch;
    let opened: OpenedSeal | null;
    try {
      opened = await openSeal(this.#seal, shares);
    } finally {
      for (const s of shares) s.fill(0);
    }
    if (opened === null) {
      throw new ValidationError(
        `The ${shares.length} shares submitted do not unseal this seal: at least one of them is wrong (which one cannot be told). The unseal attempt was reset; submit ${this.#seal.threshold} shares again.`,
      );
    }
    if (epoch !== this.#epoch || this.#opened !== null) {
      destroyOpenedSeal(opened);
      throw new ConflictError('The root was sealed, or the unseal attempt reset, while the shares were being combined; nothing was unsealed.');
    }
    this.#opened = opened;
    return this.status();
  }

  resetUnseal(): SealStatus {
    this.#attempt?.destroy();
    this.#attempt = null;
    this.#epoch++;
    return this.status();
  }

  seal(): void {
    if (this.#opened !== null) destroyOpenedSeal(this.#opened);
    this.#opened = null;
    this.#attempt?.destroy();
    this.#attempt = null;
    this.#epoch++;
  }

  async rekey(currentShares: readonly string[], options: ShareOptions): Promise<string[]> {
    const { shares, threshold } = validateShareOptions(options);
    if (!Array.isArray(currentShares)) throw new ValidationError('The current shares must be a list of strings.');
    if (this.#rekeying) throw new ConflictError('A rekey is already under way.');
    this.#rekeying = true;
    const parsed: Buffer[] = [];
    try {
      const seal = this.#seal;
      if (currentShares.length < seal.threshold) {
        throw new ValidationError(`Rekeying needs ${seal.threshold} of the current shares; ${currentShares.length} were given.`);
      }
      for (const text of currentShares) {
        const bytes = this.#parseOwnShare(text).bytes;
        if (parsed.some((b) => shareX(b) === shareX(bytes))) {
          bytes.fill(0);
          throw new ValidationError('The same current share was given twice; give different shares.');
        }
        parsed.push(bytes);
      }
      const current = await openSeal(seal, parsed);
      if (current === null) {
        throw new ValidationError('The current shares given do not unseal this seal: at least one of them is wrong (which one cannot be told). Nothing was changed.');
      }
      try {
        const { text: onDisk } = await readSealFile(this.#file);
        if (onDisk !== this.#text || this.#seal !== seal) {
          throw new ConflictError('The seal file changed since DataDefender opened it; restart DataDefender before rekeying. Nothing was changed.');
        }
        const { sealedRoot: _sealedRoot, rootKeys: entries = [], ...header } = seal;
        const next = await sealWithNewShares(
          current.rootKeys.get(1)!,
          { ...header, generation: seal.generation + 1, threshold, shares, rekeyedAt: new Date().toISOString() },
          { keys: current.rootKeys, entries },
        );
        // While unsealed, the unseal key kept for rotate-root must be the new one.
        let reopened: OpenedSeal | null = null;
        if (this.#opened !== null) {
          const fresh = next.shares.slice(0, threshold).map((t) => parseShare(t).bytes);
          reopened = await openSeal(next.seal, fresh);
          for (const b of fresh) b.fill(0);
        }
        this.#text = await replaceSealFile(this.#file, next.seal);
        this.#seal = next.seal;
        if (reopened !== null) {
          for (const k of reopened.rootKeys.values()) k.destroy();
          if (this.#opened !== null) {
            this.#opened.unsealKey.destroy();
            this.#opened.unsealKey = reopened.unsealKey;
          } else {
            reopened.unsealKey.destroy();
          }
        }
        // An attempt under way holds shares of the replaced set: it ends.
        this.#attempt?.destroy();
        this.#attempt = null;
        return next.shares;
      } finally {
        destroyOpenedSeal(current);
      }
    } finally {
      for (const b of parsed) b.fill(0);
      this.#rekeying = false;
    }
  }
}

/**
 * Opens the local-sealed root of trust kept in the seal file `file` (made by initSealedRoot). It starts sealed.
 * @throws NotFoundError (ERR_NOT_FOUND) when the file does not exist.
 * @throws ValidationError (ERR_VALIDATION) when it is not a version-1 seal file.
 */
export async function openSealedRoot(file: string): Promise<LocalSealedRoot> {
  if (typeof file !== 'string' || file.length === 0) throw new ValidationError('The seal file name must be a non-empty string.');
  const { text, seal } = await readSealFile(file);
  return new SealedRoot(file, seal, text);
}
