// The options of the pkcs11 root of trust and of createPkcs11RootKey, validated once.
// Invariants: exactly one of tokenLabel and slot; the PIN is resolved by the caller (config reads it from a file
// or an env reference, never from this module) and is copied into a SecretBytes we own and destroy on close.
import { SecretBytes } from '../../../crypto/index.js';
import { ValidationError } from '../../../errors/index.js';
import type { TokenSelector } from './token-lookup.js';

/** Where the root key lives. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so` or `/opt/cloudhsm/lib/libcloudhsm_pkcs11.so`. */
  modulePath: string;
  /** The token's label (CK_TOKEN_INFO.label); exactly one of `tokenLabel` and `slot`. */
  tokenLabel?: string;
  /** The id of the slot holding the token; exactly one of `tokenLabel` and `slot`. */
  slot?: number;
  /** The user PIN, already resolved by the caller. */
  pin: SecretBytes | string;
  /** CKA_LABEL of the root key object. */
  keyLabel: string;
}

export interface Pkcs11RootOfTrustOptions extends Pkcs11TokenOptions {
  /** Sessions in the pool: operations that can run in the HSM at once (default 4, at most 256). */
  sessions?: number;
  /** Backoff between reconnection attempts after a failure: doubles from minDelayMs up to maxDelayMs (200 ms, 10 s). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /**
   * Reads the PIN again (e.g. from its file) after the HSM refused it: a PIN that differs from the refused one is
   * tried, the refused one never again. Without it, a refused PIN stays refused until the root is reopened.
   */
  rereadPin?: () => Promise<SecretBytes | string>;
}

export interface ValidTokenOptions {
  modulePath: string;
  token: TokenSelector;
  pin: SecretBytes;
  keyLabel: string;
}

export interface ValidRootOfTrustOptions extends ValidTokenOptions {
  rereadPin?: () => Promise<SecretBytes | string>;
  sessions: number;
  minDelayMs: number;
  maxDelayMs: number;
}

const MAX_SESSIONS = 256;
const TOKEN_LABEL_BYTES = 32; // CK_TOKEN_INFO.label is 32 bytes, blank padded

const isNonEmptyString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

function delay(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new ValidationError(`pkcs11 ${name} must be a non-negative integer of milliseconds.`);
  return value as number;
}

/** A copy of the PIN that the adapter owns (and destroys). @throws ValidationError when it is not a non-empty string or SecretBytes */
export function pinCopy(pin: SecretBytes | string): SecretBytes {
  let bytes: SecretBytes;
  if (typeof pin === 'string') bytes = SecretBytes.copyOf(Buffer.from(pin, 'utf8'));
  else if (pin instanceof SecretBytes) bytes = SecretBytes.copyOf(pin.reveal());
  else throw new ValidationError('pkcs11 pin must be a string or SecretBytes.');
  if (bytes.length === 0) {
    bytes.destroy();
    throw new ValidationError('pkcs11 pin must not be empty.');
  }
  return bytes;
}

/** @throws ValidationError (ERR_VALIDATION) naming the first invalid option. */
export function validateTokenOptions(options: Pkcs11TokenOptions): ValidTokenOptions {
  if (!isNonEmptyString(options.modulePath)) throw new ValidationError('pkcs11 modulePath must name the PKCS#11 library.');
  const hasLabel = options.tokenLabel !== undefined;
  const hasSlot = options.slot !== undefined;
  if (hasLabel === hasSlot) throw new ValidationError('pkcs11 needs exactly one of tokenLabel and slot.');
  let token: TokenSelector;
  if (hasLabel) {
    const label = options.tokenLabel;
    if (!isNonEmptyString(label) || Buffer.byteLength(label) > TOKEN_LABEL_BYTES || label !== label.trimEnd()) {
      throw new ValidationError(`pkcs11 tokenLabel must be 1 to ${TOKEN_LABEL_BYTES} bytes without trailing blanks.`);
    }
    token = { label };
  } else {
    if (!Number.isSafeInteger(options.slot) || (options.slot as number) < 0) throw new ValidationError('pkcs11 slot must be a non-negative integer slot id.');
    token = { slotId: BigInt(options.slot as number) };
  }
  if (!isNonEmptyString(options.keyLabel)) throw new ValidationError('pkcs11 keyLabel must be a non-empty string.');
  return { modulePath: options.modulePath, token, pin: pinCopy(options.pin), keyLabel: options.keyLabel };
}

/** @throws ValidationError (ERR_VALIDATION) naming the first invalid option. */
export function validateRootOfTrustOptions(options: Pkcs11RootOfTrustOptions): ValidRootOfTrustOptions {
  const sessions = options.sessions ?? 4;
  if (!Number.isSafeInteger(sessions) || sessions < 1 || sessions > MAX_SESSIONS) {
    throw new ValidationError(`pkcs11 sessions must be an integer from 1 to ${MAX_SESSIONS}.`);
  }
  const minDelayMs = delay(options.reconnect?.minDelayMs, 200, 'reconnect.minDelayMs');
  const maxDelayMs = delay(options.reconnect?.maxDelayMs, Math.max(10_000, minDelayMs), 'reconnect.maxDelayMs');
  if (maxDelayMs < minDelayMs) throw new ValidationError('pkcs11 reconnect.maxDelayMs must not be below reconnect.minDelayMs.');
  // Validated last so that no PIN copy is made when another option is wrong.
  return { ...validateTokenOptions(options), ...(options.rereadPin ? { rereadPin: options.rereadPin } : {}), sessions, minDelayMs, maxDelayMs };
}
