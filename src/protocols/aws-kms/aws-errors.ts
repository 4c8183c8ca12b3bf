/**
 * DataDefender error codes as AWS KMS wire errors: `{"__type", "message"}` with AWS's status codes
 * (../shared/reference/aws-kms-protocol.md §1.2, §2.7). Client faults are 400; only server faults are 5xx,
 * because the SDKs retry 5xx.
 * Invariant: every ErrorCode has a row (the `satisfies` clause fails the build otherwise); internal causes
 * never reach the message.
 */
import type { AuthenticationFailure, DataDefenderError, ErrorCode } from '../../errors/index.js';
import { UnauthenticatedError } from '../../errors/index.js';

interface WireError {
  type: string;
  status: number;
}

const AWS_ERRORS = {
  ERR_VALIDATION: { type: 'ValidationException', status: 400 },
  ERR_NOT_FOUND: { type: 'NotFoundException', status: 400 },
  ERR_ALREADY_EXISTS: { type: 'AlreadyExistsException', status: 400 },
  ERR_INVALID_ALIAS_NAME: { type: 'InvalidAliasNameException', status: 400 },
  ERR_INVALID_MARKER: { type: 'InvalidMarkerException', status: 400 },
  ERR_KEY_DISABLED: { type: 'DisabledException', status: 400 },
  ERR_INVALID_STATE: { type: 'KMSInvalidStateException', status: 400 },
  ERR_INVALID_KEY_USAGE: { type: 'InvalidKeyUsageException', status: 400 },
  ERR_INVALID_CIPHERTEXT: { type: 'InvalidCiphertextException', status: 400 },
  ERR_INCORRECT_KEY: { type: 'IncorrectKeyException', status: 400 },
  ERR_INVALID_SIGNATURE: { type: 'KMSInvalidSignatureException', status: 400 },
  ERR_INVALID_MAC: { type: 'KMSInvalidMacException', status: 400 },
  ERR_MALFORMED_POLICY: { type: 'MalformedPolicyDocumentException', status: 400 },
  ERR_INVALID_GRANT_TOKEN: { type: 'InvalidGrantTokenException', status: 400 },
  ERR_INVALID_GRANT_ID: { type: 'InvalidGrantIdException', status: 400 },
  ERR_INVALID_IMPORT_TOKEN: { type: 'InvalidImportTokenException', status: 400 },
  ERR_EXPIRED_IMPORT_TOKEN: { type: 'ExpiredImportTokenException', status: 400 },
  ERR_INCORRECT_KEY_MATERIAL: { type: 'IncorrectKeyMaterialException', status: 400 },
  ERR_INVALID_TAG: { type: 'TagException', status: 400 },
  ERR_DRY_RUN: { type: 'DryRunOperationException', status: 412 },
  ERR_UNSUPPORTED: { type: 'UnsupportedOperationException', status: 400 },
  ERR_UNKNOWN_OPERATION: { type: 'UnknownOperationException', status: 400 },
  ERR_LIMIT_EXCEEDED: { type: 'LimitExceededException', status: 400 },
  ERR_CONFLICT: { type: 'ConflictException', status: 400 },
  ERR_KEY_STORE_NOT_FOUND: { type: 'CustomKeyStoreNotFoundException', status: 400 },
  ERR_KEY_STORE_NAME_IN_USE: { type: 'CustomKeyStoreNameInUseException', status: 400 },
  ERR_KEY_STORE_INVALID_STATE: { type: 'CustomKeyStoreInvalidStateException', status: 400 },
  ERR_KEY_STORE_HAS_KEYS: { type: 'CustomKeyStoreHasCMKsException', status: 400 },
  ERR_HSM_CLUSTER_NOT_FOUND: { type: 'CloudHsmClusterNotFoundException', status: 400 },
  ERR_HSM_CLUSTER_IN_USE: { type: 'CloudHsmClusterInUseException', status: 400 },
  ERR_INCORRECT_TRUST_ANCHOR: { type: 'IncorrectTrustAnchorException', status: 400 },
  ERR_UNAUTHENTICATED: { type: 'MissingAuthenticationTokenException', status: 403 },
  ERR_ACCESS_DENIED: { type: 'AccessDeniedException', status: 400 },
  ERR_APPROVAL_REQUIRED: { type: 'AccessDeniedException', status: 400 },
  ERR_PAYLOAD_TOO_LARGE: { type: 'ValidationException', status: 413 },
  ERR_SEALED: { type: 'KMSInternalException', status: 503 },
  ERR_DEPENDENCY: { type: 'DependencyTimeoutException', status: 503 },
  ERR_AUDIT_UNAVAILABLE: { type: 'KMSInternalException', status: 500 },
  ERR_INTERNAL: { type: 'KMSInternalException', status: 500 },
} as const satisfies Record<ErrorCode, WireError>;

/** SigV4 failures carry their own AWS types. */
const AUTHENTICATION_ERRORS = {
  missing: { type: 'MissingAuthenticationTokenException', status: 403 },
  malformed: { type: 'IncompleteSignatureException', status: 400 },
  'unknown-credential': { type: 'UnrecognizedClientException', status: 400 },
  'bad-signature': { type: 'InvalidSignatureException', status: 400 },
} as const satisfies Record<AuthenticationFailure, WireError>;

/** The wire form of `error`. */
export function awsErrorOf(error: DataDefenderError): { status: number; body: { __type: string; message: string } } {
  const wire: WireError = error instanceof UnauthenticatedError ? AUTHENTICATION_ERRORS[error.reason] : AWS_ERRORS[error.code];
  return { status: wire.status, body: { __type: wire.type, message: error.message } };
}
