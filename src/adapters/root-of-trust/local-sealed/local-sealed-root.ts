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
 *   (older shares are refused from then on) and replaces the file atomically; it never changes sealed or unsealed.
 */
import { type SecretBytes, randomUuid, unwrapKey, wrapKey } from '../../../crypto/index.js';
import { ConflictError, SealedError, ValidationError } from '../../../errors/index.js';
import type { SealableRoot, SealStatus } from '../../../ports/root-of-trust.js';
import { type SealFile, readSealFile, replaceSealFile } from './seal-file.js';
import { recoverRootKey, sealWithNewShares } from './root-seal.js';
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
}

class SealedRoot implements LocalSealedRoot {
  readonly kind = 'local-sealed' as const;
  readonly #file: string;
  #seal: SealFile;
  /** The seal file's text as this root last read or wrote it, to notice another writer before a rekey. */
  #text: string;
  #rootKey: SecretBytes | null = null;
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
      sealed: this.#rootKey === null,
      threshold: this.#seal.threshold,
      shares: this.#seal.shares,
      progress: this.#attempt?.size ?? 0,
      nonce: this.#attempt?.nonce ?? null,
    };
  }

  async wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array> {
    return wrapKey(this.#unsealedKey(), plaintext, aad);
  }

  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
    return unwrapKey(this.#unsealedKey(), wrapped, aad);
  }

  #unsealedKey(): SecretBytes {
    if (this.#rootKey === null) throw new SealedError(SEALED_MESSAGE);
    return this.#rootKey;
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
    if (this.#rootKey !== null) throw new ConflictError('DataDefender is already unsealed.');
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
    let rootKey: SecretBytes | null;
    try {
      rootKey = await recoverRootKey(this.#seal, shares);
    } finally {
      for (const s of shares) s.fill(0);
    }
    if (rootKey === null) {
      throw new ValidationError(
        `The ${shares.length} shares submitted do not unseal this seal: at least one of them is wrong (which one cannot be told). The unseal attempt was reset; submit ${this.#seal.threshold} shares again.`,
      );
    }
    if (epoch !== this.#epoch || this.#rootKey !== null) {
      rootKey.destroy();
      throw new ConflictError('The root was sealed, or the unseal attempt reset, while the shares were being combined; nothing was unsealed.');
    }
    this.#rootKey = rootKey;
    return this.status();
  }

  resetUnseal(): SealStatus {
    this.#attempt?.destroy();
    this.#attempt = null;
    this.#epoch++;
    return this.status();
  }

  seal(): void {
    this.#rootKey?.destroy();
    this.#rootKey = null;
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
      const rootKey = await recoverRootKey(seal, parsed);
      if (rootKey === null) {
        throw new ValidationError('The current shares given do not unseal this seal: at least one of them is wrong (which one cannot be told). Nothing was changed.');
      }
      try {
        const { text: onDisk } = await readSealFile(this.#file);
        if (onDisk !== this.#text || this.#seal !== seal) {
          throw new ConflictError('The seal file changed since DataDefender opened it; restart DataDefender before rekeying. Nothing was changed.');
        }
        const next = await sealWithNewShares(rootKey, {
          ...seal,
          generation: seal.generation + 1,
          threshold,
          shares,
          rekeyedAt: new Date().toISOString(),
        });
        this.#text = await replaceSealFile(this.#file, next.seal);
        this.#seal = next.seal;
        // An attempt under way holds shares of the replaced set: it ends.
        this.#attempt?.destroy();
        this.#attempt = null;
        return next.shares;
      } finally {
        rootKey.destroy();
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
