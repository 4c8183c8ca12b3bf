import type { ErrorCode } from './codes.js';

/**
 * Base of every error DataDefender raises on purpose. The message is safe to show to a client:
 * it never carries plaintext, key material, secrets or internal details.
 */
export class DataDefenderError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

const define = (code: ErrorCode) =>
  class extends DataDefenderError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };

export class ValidationError extends define('ERR_VALIDATION') {}
/** Something named by the request does not exist; `resource` is its ARN when it is a key or an alias. */
export class NotFoundError extends DataDefenderError {
  readonly resource: string | undefined;
  constructor(message: string, options?: { cause?: unknown; resource?: string }) {
    super('ERR_NOT_FOUND', message, options);
    this.resource = options?.resource;
  }
}
export class AlreadyExistsError extends define('ERR_ALREADY_EXISTS') {}
export class InvalidAliasNameError extends define('ERR_INVALID_ALIAS_NAME') {}
export class InvalidMarkerError extends define('ERR_INVALID_MARKER') {}
export class KeyDisabledError extends define('ERR_KEY_DISABLED') {}
export class InvalidStateError extends define('ERR_INVALID_STATE') {}
export class InvalidKeyUsageError extends define('ERR_INVALID_KEY_USAGE') {}
export class IncorrectKeyError extends define('ERR_INCORRECT_KEY') {}
export class MalformedPolicyError extends define('ERR_MALFORMED_POLICY') {}
export class InvalidGrantTokenError extends define('ERR_INVALID_GRANT_TOKEN') {}
export class InvalidGrantIdError extends define('ERR_INVALID_GRANT_ID') {}
export class InvalidImportTokenError extends define('ERR_INVALID_IMPORT_TOKEN') {}
export class ExpiredImportTokenError extends define('ERR_EXPIRED_IMPORT_TOKEN') {}
export class IncorrectKeyMaterialError extends define('ERR_INCORRECT_KEY_MATERIAL') {}
export class InvalidTagError extends define('ERR_INVALID_TAG') {}
export class DryRunError extends define('ERR_DRY_RUN') {}
export class UnknownOperationError extends define('ERR_UNKNOWN_OPERATION') {}
export class UnsupportedError extends define('ERR_UNSUPPORTED') {}
export class LimitExceededError extends define('ERR_LIMIT_EXCEEDED') {}
export class ConflictError extends define('ERR_CONFLICT') {}
/** Custom key stores (AWS CloudHSM key stores backed by a PKCS#11 token): the store named does not exist. */
export class KeyStoreNotFoundError extends define('ERR_KEY_STORE_NOT_FOUND') {}
export class KeyStoreNameInUseError extends define('ERR_KEY_STORE_NAME_IN_USE') {}
/** The store's connection state does not allow the operation (AWS CustomKeyStoreInvalidStateException). */
export class KeyStoreInvalidStateError extends define('ERR_KEY_STORE_INVALID_STATE') {}
/** The store still holds KMS keys (AWS CustomKeyStoreHasCMKsException). */
export class KeyStoreHasKeysError extends define('ERR_KEY_STORE_HAS_KEYS') {}
/** No HSM token carries the cluster id (AWS CloudHsmClusterNotFoundException). */
export class HsmClusterNotFoundError extends define('ERR_HSM_CLUSTER_NOT_FOUND') {}
/** Another custom key store uses the token already (AWS CloudHsmClusterInUseException). */
export class HsmClusterInUseError extends define('ERR_HSM_CLUSTER_IN_USE') {}
/** The trust anchor is not a PEM X.509 certificate (AWS IncorrectTrustAnchorException). */
export class IncorrectTrustAnchorError extends define('ERR_INCORRECT_TRUST_ANCHOR') {}
/** Why authentication failed, for protocols that name the cause (AWS SigV4 error types). */
export type AuthenticationFailure = 'missing' | 'malformed' | 'unknown-credential' | 'bad-signature';

export class UnauthenticatedError extends DataDefenderError {
  constructor(
    message: string,
    readonly reason: AuthenticationFailure = 'missing',
  ) {
    super('ERR_UNAUTHENTICATED', message);
  }
}
export class AccessDeniedError extends define('ERR_ACCESS_DENIED') {}
/**
 * Dual control: the operation needs a second principal's approval. A pending approval request exists; its id is
 * in the message and in `approvalId`.
 */
export class ApprovalRequiredError extends DataDefenderError {
  constructor(
    message: string,
    readonly approvalId: string,
  ) {
    super('ERR_APPROVAL_REQUIRED', message);
  }
}
export class PayloadTooLargeError extends define('ERR_PAYLOAD_TOO_LARGE') {}
export class SealedError extends define('ERR_SEALED') {}
export class DependencyError extends define('ERR_DEPENDENCY') {}

/** Every decryption, unwrap or authentication-tag failure: one class, one fixed message, nothing to learn from it. */
export class InvalidCiphertextError extends DataDefenderError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_INVALID_CIPHERTEXT', 'The ciphertext is invalid or does not match the encryption context.', options);
  }
}

/** A signature that does not verify: one fixed message. */
export class InvalidSignatureError extends DataDefenderError {
  constructor() {
    super('ERR_INVALID_SIGNATURE', 'The signature is not valid for this message, key and algorithm.');
  }
}

/** A MAC that does not verify: one fixed message. */
export class InvalidMacError extends DataDefenderError {
  constructor() {
    super('ERR_INVALID_MAC', 'The MAC is not valid for this message, key and algorithm.');
  }
}

export class AuditUnavailableError extends DataDefenderError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_AUDIT_UNAVAILABLE', 'The audit trail cannot record events; the operation was not performed.', options);
  }
}

/** An unexpected failure. The fixed message goes to the client; the cause is logged with the request id. */
export class InternalError extends DataDefenderError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_INTERNAL', 'An internal error occurred.', options);
  }
}

/** Narrows anything thrown to a DataDefenderError; unknown errors become an InternalError with the original as cause. */
export function toDataDefenderError(err: unknown): DataDefenderError {
  return err instanceof DataDefenderError ? err : new InternalError({ cause: err });
}
