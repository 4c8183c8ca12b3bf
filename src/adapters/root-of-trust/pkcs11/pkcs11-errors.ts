// What a PKCS#11 failure means for the root of trust: refused ciphertext, refused PIN, or an unavailable HSM.
// Invariants: messages carry only the CKR_* name, token and key labels and the module path — never a PIN, key
// material or plaintext; anything not known to be the caller's ciphertext's fault is an unavailable HSM (fail closed).
import { DataDefenderError, DependencyError } from '../../../errors/index.js';

/** PKCS#11 v3.0 CKR_AEAD_DECRYPT_FAILED; absent from the v2.40 headers pkcs11js names codes from. */
const CKR_AEAD_DECRYPT_FAILED = 0x35;

/** C_Decrypt results that blame the ciphertext (or its AAD), not the HSM. C_Decrypt ends the operation on them. */
const CIPHERTEXT_REJECTIONS = new Set([
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_AEAD_DECRYPT_FAILED',
]);

/**
 * C_Decrypt results that may mean either a bad tag or a failing HSM. SoftHSM2 2.6 answers a GCM tag mismatch with
 * CKR_GENERAL_ERROR, so these are settled by probing the session and the token (see the adapter).
 */
const AMBIGUOUS_DECRYPT_FAILURES = new Set(['CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED']);

/** Login refusals: retrying them with the same PIN could lock the HSM user, so the adapter stops retrying. */
const PIN_REFUSALS = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_EXPIRED', 'CKR_PIN_LOCKED']);

/** The CKR_* name of a pkcs11js error (its message is the name), or undefined for anything else. */
export function ckrName(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (code === CKR_AEAD_DECRYPT_FAILED) return 'CKR_AEAD_DECRYPT_FAILED';
  return /^CKR_[A-Z0-9_]+$/.test(err.message) ? err.message : undefined;
}

export const isCiphertextRejection = (err: unknown): boolean => CIPHERTEXT_REJECTIONS.has(ckrName(err) ?? '');
export const isAmbiguousDecryptFailure = (err: unknown): boolean => AMBIGUOUS_DECRYPT_FAILURES.has(ckrName(err) ?? '');
export const isPinRefusal = (err: unknown): boolean => PIN_REFUSALS.has(ckrName(err) ?? '');
export const isAlready = (err: unknown, name: 'CKR_USER_ALREADY_LOGGED_IN' | 'CKR_CRYPTOKI_ALREADY_INITIALIZED'): boolean =>
  ckrName(err) === name;

/** `The HSM is unavailable: <reason>.` — the one DependencyError of an unreachable or failing HSM. */
export function hsmUnavailable(reason: string, cause?: unknown): DependencyError {
  return new DependencyError(`The HSM is unavailable: ${reason}.`, { cause });
}

/** The DependencyError for anything a PKCS#11 call threw; our own DataDefender errors keep their message. */
export function asDependencyError(err: unknown): DependencyError {
  if (err instanceof DependencyError) return err;
  if (err instanceof DataDefenderError) return new DependencyError(err.message, { cause: err });
  if (isPinRefusal(err)) return new DependencyError(`The HSM refused the login: ${ckrName(err)}.`, { cause: err });
  return hsmUnavailable(ckrName(err) ?? 'the PKCS#11 module failed', err);
}
