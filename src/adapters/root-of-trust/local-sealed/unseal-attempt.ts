// One unseal attempt: the shares submitted so far under one nonce.
// Invariants: holds share bytes only until the attempt completes or ends (take() hands them over, destroy()
// zeroes them); a second share with an x coordinate already submitted is refused without changing the attempt.
import { ConflictError } from '../../../errors/index.js';
import { shareX } from './shamir.js';

export class UnsealAttempt {
  readonly nonce: string;
  #shares: Buffer[] = [];

  constructor(nonce: string) {
    this.nonce = nonce;
  }

  /** Shares submitted so far. */
  get size(): number {
    return this.#shares.length;
  }

  /**
   * Adds `share` (y || x); the attempt owns it from now on.
   * @throws ConflictError (ERR_CONFLICT) when a share with the same x coordinate is already in (the share is zeroed).
   */
  add(share: Buffer): void {
    const x = shareX(share);
    if (this.#shares.some((s) => shareX(s) === x)) {
      share.fill(0);
      throw new ConflictError('This share was already submitted in this unseal attempt; submit a different share.');
    }
    this.#shares.push(share);
  }

  /** The shares, handed over to the caller (who zeroes them); the attempt is empty afterwards. */
  take(): Buffer[] {
    const shares = this.#shares;
    this.#shares = [];
    return shares;
  }

  /** Zeroes and drops every share. */
  destroy(): void {
    for (const s of this.#shares) s.fill(0);
    this.#shares = [];
  }
}
