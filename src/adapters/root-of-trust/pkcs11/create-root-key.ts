// Creating the root key object in the token (`operator init`), once.
// Invariants: the key is generated inside the HSM (C_GenerateKey, CKM_AES_KEY_GEN) and is never seen outside it:
// AES-256, a token object, private, sensitive, not extractable, for encrypt and decrypt only (no wrap, unwrap,
// sign, verify or derive: the root of trust needs none of them); an existing object with the label is never
// replaced or duplicated.
import pkcs11js from 'pkcs11js';
import type { Handle, Template } from 'pkcs11js';
import { AlreadyExistsError, DataDefenderError, DependencyError } from '../../../errors/index.js';
import { ckrName } from './pkcs11-errors.js';
import { acquireModule } from './pkcs11-module.js';
import { validateTokenOptions, type Pkcs11TokenOptions } from './pkcs11-options.js';
import { findObjects, findSlot, handleId, login } from './token-lookup.js';

/** The template of the root key: what DESIGN §2 promises about it, attribute by attribute (PKCS#11 v2.40 §4.9). */
export function rootKeyTemplate(keyLabel: string): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_LABEL, value: keyLabel },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
}

/**
 * Generates the root key in the token, labelled `keyLabel`.
 * @throws ValidationError (ERR_VALIDATION) for invalid options or several tokens with the label.
 * @throws AlreadyExistsError (ERR_ALREADY_EXISTS) when an object with that label exists on the token.
 * @throws DependencyError (ERR_DEPENDENCY) when the module cannot be loaded, the token is absent, the login is
 * refused or the HSM fails.
 */
export async function createPkcs11RootKey(options: Pkcs11TokenOptions): Promise<void> {
  const valid = validateTokenOptions(options);
  let module;
  try {
    module = acquireModule(valid.modulePath);
  } catch (err) {
    valid.pin.destroy();
    throw err;
  }
  const api = module.api;
  let session: Handle | undefined;
  let unclaim: (() => boolean) | undefined;
  try {
    await module.settled();
    module.ensureInitialized();
    const slot = findSlot(api, valid.token);
    unclaim = module.claimSlot(handleId(slot));
    session = api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    login(api, session, valid.pin);
    if (findObjects(api, session, [{ type: pkcs11js.CKA_LABEL, value: valid.keyLabel }], 1).length > 0) {
      throw new AlreadyExistsError(`The HSM token already holds an object labelled "${valid.keyLabel}"; no key was created.`);
    }
    module.enter();
    try {
      await api.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, rootKeyTemplate(valid.keyLabel));
    } finally {
      module.leave();
    }
  } catch (err) {
    if (err instanceof DataDefenderError) throw err;
    throw new DependencyError(`The HSM could not create the root key: ${ckrName(err) ?? 'the PKCS#11 module failed'}.`, { cause: err });
  } finally {
    if (session !== undefined) {
      try {
        if (unclaim?.()) api.C_Logout(session);
      } catch {
        // The session's close ends the login anyway when it is the token's last.
      }
      try {
        api.C_CloseSession(session);
      } catch {
        // Already gone.
      }
    } else {
      unclaim?.();
    }
    valid.pin.destroy();
    await module.release();
  }
}
