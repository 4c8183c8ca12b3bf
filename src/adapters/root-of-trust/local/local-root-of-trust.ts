/**
 * The `local` root of trust for dev mode: a 256-bit root key in a file in the data directory.
 * Invariants: the file is created exclusively with mode 0600 and never rewritten; wrap and unwrap are
 * AES-256-GCM with the caller's AAD (crypto/key-wrap); the key is not protected at rest — dev mode only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { SecretBytes, randomBytes, unwrapKey, wrapKey } from '../../../crypto/index.js';
import { ValidationError } from '../../../errors/index.js';
import type { RootOfTrust } from '../../../ports/root-of-trust.js';

const ROOT_KEY_BYTES = 32;

async function readOrCreateRootKey(file: string): Promise<SecretBytes> {
  try {
    await writeFile(file, randomBytes(ROOT_KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const bytes = await readFile(file);
  if (bytes.length !== ROOT_KEY_BYTES) {
    bytes.fill(0);
    throw new ValidationError(`The root key file ${file} is not a ${ROOT_KEY_BYTES}-byte key.`);
  }
  return SecretBytes.adopt(bytes);
}

/**
 * Opens (creating on first use) the dev-mode root key at `file`.
 * @throws ValidationError (ERR_VALIDATION) when the file holds something other than a 256-bit key.
 */
export async function openLocalRootOfTrust(file: string): Promise<RootOfTrust> {
  const rootKey = await readOrCreateRootKey(file);
  return {
    kind: 'local',
    wrap: async (plaintext, aad) => wrapKey(rootKey, plaintext, aad),
    unwrap: async (wrapped, aad) => unwrapKey(rootKey, wrapped, aad),
  };
}
