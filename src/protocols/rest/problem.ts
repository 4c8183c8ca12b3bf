/**
 * RFC 9457 problem details for the native API. One table maps every error code to its HTTP status
 * (`satisfies Record<ErrorCode, number>`: a new code without a status fails the build).
 * Invariant: the body carries only the error's client-safe message, never a stack or a cause.
 */
import { ApprovalRequiredError, type DataDefenderError, type ErrorCode } from '../../errors/index.js';

export const STATUS_BY_CODE = {
  ERR_VALIDATION: 400,
  ERR_NOT_FOUND: 404,
  ERR_ALREADY_EXISTS: 409,
  ERR_INVALID_ALIAS_NAME: 400,
  ERR_INVALID_MARKER: 400,
  ERR_KEY_DISABLED: 409,
  ERR_INVALID_STATE: 409,
  ERR_INVALID_KEY_USAGE: 400,
  ERR_INVALID_CIPHERTEXT: 400,
  ERR_INCORRECT_KEY: 400,
  ERR_INVALID_SIGNATURE: 400,
  ERR_INVALID_MAC: 400,
  ERR_MALFORMED_POLICY: 400,
  ERR_INVALID_GRANT_TOKEN: 400,
  ERR_INVALID_GRANT_ID: 400,
  ERR_INVALID_IMPORT_TOKEN: 400,
  ERR_EXPIRED_IMPORT_TOKEN: 400,
  ERR_INCORRECT_KEY_MATERIAL: 400,
  ERR_INVALID_TAG: 400,
  ERR_DRY_RUN: 412,
  ERR_UNSUPPORTED: 400,
  ERR_UNKNOWN_OPERATION: 404,
  ERR_LIMIT_EXCEEDED: 429,
  ERR_CONFLICT: 409,
  ERR_KEY_STORE_NOT_FOUND: 404,
  ERR_KEY_STORE_NAME_IN_USE: 409,
  ERR_KEY_STORE_INVALID_STATE: 409,
  ERR_KEY_STORE_HAS_KEYS: 409,
  ERR_HSM_CLUSTER_NOT_FOUND: 400,
  ERR_HSM_CLUSTER_IN_USE: 409,
  ERR_INCORRECT_TRUST_ANCHOR: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_ACCESS_DENIED: 403,
  ERR_APPROVAL_REQUIRED: 403,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_SEALED: 503,
  ERR_DEPENDENCY: 503,
  ERR_AUDIT_UNAVAILABLE: 503,
  ERR_INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  /** ERR_APPROVAL_REQUIRED: the pending approval request. */
  approvalRequestId?: string;
}

export function problemOf(error: DataDefenderError, requestId: string): Problem {
  const status = STATUS_BY_CODE[error.code];
  return {
    type: `urn:datadefender:error:${error.code}`,
    title: error.code.slice(4).toLowerCase().replace(/_/g, ' '),
    status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(error instanceof ApprovalRequiredError ? { approvalRequestId: error.approvalId } : {}),
  };
}
