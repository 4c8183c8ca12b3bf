// `operator init` for the local-sealed root of trust: a new root key, sealed, and the shares that unseal it.
// Invariants: the root key and the unseal key are 256 random bits from the CSPRNG and are zeroed before this returns
// (only the shares, as text, leave); the seal file is written exclusively with mode 0600 and synced before any
// share is returned; an existing seal file is never overwritten.
import { randomSecret, randomUuid } from '../../../crypto/index.js';
import { ValidationError } from '../../../errors/index.js';
import { SEAL_FORMAT, SEAL_VERSION, createSealFile } from './seal-file.js';
import { ROOT_KEY_BYTES, sealWithNewShares } from './root-seal.js';
import { type ShareOptions, validateShareOptions } from './share-options.js';

/**
 * Creates the seal file `file` for a new random root key and returns the `shares` unseal shares, `threshold` of
 * which unseal it (1 <= threshold <= shares <= 255; threshold >= 2 unless shares = 1). Hand each share to a
 * different operator: DataDefender keeps none of them.
 * @throws ValidationError (ERR_VALIDATION) for share options out of range or an empty file name.
 * @throws AlreadyExistsError (ERR_ALREADY_EXISTS) when `file` exists.
 */
export async function initSealedRoot(file: string, options: ShareOptions): Promise<string[]> {
  if (typeof file !== 'string' || file.length === 0) throw new ValidationError('The seal file name must be a non-empty string.');
  const { shares, threshold } = validateShareOptions(options);
  const rootKey = randomSecret(ROOT_KEY_BYTES);
  try {
    const sealed = await sealWithNewShares(rootKey, {
      format: SEAL_FORMAT,
      version: SEAL_VERSION,
      id: randomUuid(),
      generation: 1,
      threshold,
      shares,
      createdAt: new Date().toISOString(),
      rekeyedAt: null,
    });
    await createSealFile(file, sealed.seal);
    return sealed.shares;
  } finally {
    rootKey.destroy();
  }
}
