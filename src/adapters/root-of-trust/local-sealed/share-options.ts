// How many unseal shares a seal issues and how many of them unseal it.
// Invariants: 1 <= threshold <= shares <= 255 (GF(2^8) Shamir has 255 non-zero x coordinates); a threshold of 1 is
// allowed only with a single share (1 of 1: the share is the whole unseal key, for one-operator installations and
// tests) — 1 of N would hand N people the whole key each, which is N copies of a secret, not a split.
import { ValidationError } from '../../../errors/index.js';

/** Shares issued and shares needed to unseal. */
export interface ShareOptions {
  shares: number;
  threshold: number;
}

export const MAX_SHARES = 255;

/**
 * Checks `options` and returns a clean copy.
 * @throws ValidationError (ERR_VALIDATION) unless 1 <= threshold <= shares <= 255 and threshold >= 2 when shares > 1.
 */
export function validateShareOptions(options: ShareOptions): ShareOptions {
  if (typeof options !== 'object' || options === null) throw new ValidationError('The share options must be an object with `shares` and `threshold`.');
  const { shares, threshold } = options;
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) {
    throw new ValidationError(`The number of shares must be an integer between 1 and ${MAX_SHARES}.`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new ValidationError(`The threshold must be an integer between 1 and the number of shares (${shares}).`);
  }
  if (threshold === 1 && shares > 1) {
    throw new ValidationError('A threshold of 1 with several shares would make every share a whole unseal key; use 1 share of 1, or a threshold of at least 2.');
  }
  return { shares, threshold };
}
