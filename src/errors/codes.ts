/**
 * The one error taxonomy of DataDefender. Codes are stable: clients, protocols and tests depend on them.
 * Each protocol maps every code to its wire error in a table typed `satisfies Record<ErrorCode, ...>`,
 * so adding a code here without a mapping fails the build.
 */
export const ERROR_CODES = [
  'ERR_VALIDATION',
  'ERR_NOT_FOUND',
  'ERR_ALREADY_EXISTS',
  'ERR_INVALID_ALIAS_NAME',
  'ERR_INVALID_MARKER',
  'ERR_KEY_DISABLED',
  'ERR_INVALID_STATE',
  'ERR_INVALID_KEY_USAGE',
  'ERR_INVALID_CIPHERTEXT',
  'ERR_INCORRECT_KEY',
  'ERR_INVALID_SIGNATURE',
  'ERR_INVALID_MAC',
  'ERR_MALFORMED_POLICY',
  'ERR_INVALID_GRANT_TOKEN',
  'ERR_INVALID_GRANT_ID',
  'ERR_INVALID_IMPORT_TOKEN',
  'ERR_EXPIRED_IMPORT_TOKEN',
  'ERR_INCORRECT_KEY_MATERIAL',
  'ERR_INVALID_TAG',
  'ERR_DRY_RUN',
  'ERR_UNSUPPORTED',
  'ERR_UNKNOWN_OPERATION',
  'ERR_LIMIT_EXCEEDED',
  'ERR_CONFLICT',
  'ERR_UNAUTHENTICATED',
  'ERR_ACCESS_DENIED',
  'ERR_APPROVAL_REQUIRED',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_SEALED',
  'ERR_DEPENDENCY',
  'ERR_AUDIT_UNAVAILABLE',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
