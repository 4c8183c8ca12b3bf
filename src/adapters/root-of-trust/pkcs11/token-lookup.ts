// Finding the token, logging in and finding the root key object: the synchronous steps of a (re)connection.
// Invariants: a token is chosen by exactly one of its label or its slot id, and must be present and unique; the root
// key is the one AES secret key on the token with the configured CKA_LABEL, AES-256, allowed to encrypt and
// decrypt, sensitive and not extractable — anything else is refused, never silently used; the PIN is turned into
// a string only for the duration of C_Login (pkcs11js takes no Buffer).
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11, Template } from 'pkcs11js';
import type { SecretBytes } from '../../../crypto/index.js';
import { DependencyError, ValidationError } from '../../../errors/index.js';
import { asDependencyError, ckrName, hsmUnavailable, isAlready } from './pkcs11-errors.js';

/** Which token: by its label, or by the id of the slot that holds it. */
export type TokenSelector = { readonly label: string } | { readonly slotId: bigint };

export const describeToken = (token: TokenSelector): string => ('label' in token ? `token "${token.label}"` : `slot ${token.slotId}`);

/** A CK_ULONG handle (little-endian on every platform pkcs11js builds for) as a number we can compare. */
export function handleId(handle: Handle): bigint {
  let id = 0n;
  for (let i = handle.length - 1; i >= 0; i--) id = (id << 8n) | BigInt(handle[i]!);
  return id;
}

/**
 * The slot holding the selected token.
 * @throws DependencyError (ERR_DEPENDENCY) when no such token is present (or the module fails);
 * ValidationError (ERR_VALIDATION) when several present tokens carry the label.
 */
export function findSlot(api: PKCS11, token: TokenSelector): Handle {
  let slots: Handle[];
  try {
    slots = api.C_GetSlotList(true);
  } catch (err) {
    throw asDependencyError(err);
  }
  if ('slotId' in token) {
    const slot = slots.find((s) => handleId(s) === token.slotId);
    if (!slot) throw hsmUnavailable(`no token is present in slot ${token.slotId}`);
    return slot;
  }
  const matches = slots.filter((slot) => {
    try {
      return api.C_GetTokenInfo(slot).label.trimEnd() === token.label;
    } catch {
      return false; // a slot that cannot describe its token is not the one we can use
    }
  });
  if (matches.length === 0) throw hsmUnavailable(`no token labelled "${token.label}" is present`);
  if (matches.length > 1) throw new ValidationError(`${matches.length} tokens are labelled "${token.label}"; select the token by slot instead.`);
  return matches[0]!;
}

/**
 * Logs the user in (the login is shared by all the application's sessions with the token, so "already logged in"
 * is success).
 * @throws DependencyError (ERR_DEPENDENCY) `The HSM refused the login: CKR_PIN_INCORRECT.` and the like.
 */
export function login(api: PKCS11, session: Handle, pin: SecretBytes): void {
  try {
    api.C_Login(session, pkcs11js.CKU_USER, pin.reveal().toString('utf8'));
  } catch (err) {
    if (isAlready(err, 'CKR_USER_ALREADY_LOGGED_IN')) return;
    throw new DependencyError(`The HSM refused the login: ${ckrName(err) ?? 'the PKCS#11 module failed'}.`, { cause: err });
  }
}

/** Handles of the objects matching `template`, at most `max`. */
export function findObjects(api: PKCS11, session: Handle, template: Template, max: number): Handle[] {
  api.C_FindObjectsInit(session, template);
  try {
    return api.C_FindObjects(session, max);
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

const bool = (value: Buffer | undefined): boolean => value !== undefined && value.length > 0 && value.some((b) => b !== 0);
const ulong = (value: Buffer | undefined): bigint => (value ? handleId(value) : -1n);

/**
 * The root key: the one AES secret key labelled `keyLabel` on the token (call after login: it is a private object).
 * @throws DependencyError (ERR_DEPENDENCY) when there is none (or the module fails); ValidationError
 * (ERR_VALIDATION) when several keys carry the label or the key is not a sensitive, non-extractable AES-256
 * encryption key.
 */
export function findRootKey(api: PKCS11, session: Handle, keyLabel: string): Handle {
  let keys: Handle[];
  try {
    keys = findObjects(
      api,
      session,
      [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_LABEL, value: keyLabel },
      ],
      2,
    );
  } catch (err) {
    throw asDependencyError(err);
  }
  if (keys.length === 0) throw hsmUnavailable(`the token holds no AES key labelled "${keyLabel}"`);
  if (keys.length > 1) throw new ValidationError(`More than one AES key on the token is labelled "${keyLabel}"; the root key label must name exactly one key.`);
  const key = keys[0]!;
  let attrs: Map<number, Buffer | undefined>;
  try {
    const wanted = [pkcs11js.CKA_VALUE_LEN, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE];
    attrs = new Map(api.C_GetAttributeValue(session, key, wanted.map((type) => ({ type }))).map((a) => [a.type, a.value]));
  } catch (err) {
    throw asDependencyError(err);
  }
  const problems = [
    ulong(attrs.get(pkcs11js.CKA_VALUE_LEN)) !== 32n && 'is not 256 bits long',
    !bool(attrs.get(pkcs11js.CKA_ENCRYPT)) && 'may not encrypt',
    !bool(attrs.get(pkcs11js.CKA_DECRYPT)) && 'may not decrypt',
    !bool(attrs.get(pkcs11js.CKA_SENSITIVE)) && 'is not sensitive',
    bool(attrs.get(pkcs11js.CKA_EXTRACTABLE)) && 'is extractable',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new ValidationError(`The AES key labelled "${keyLabel}" cannot be the root key: it ${problems.join(', ')}.`);
  return key;
}
