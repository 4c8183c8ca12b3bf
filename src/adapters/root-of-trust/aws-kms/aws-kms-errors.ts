// What a failed upstream call means for the root of trust: a refused ciphertext, or an unavailable upstream.
// Invariants:
// - only InvalidCiphertextException and IncorrectKeyException answering a Decrypt blame the caller's ciphertext
//   (InvalidCiphertextError, its one fixed message); everything else is DependencyError (fail closed);
// - a DependencyError message names the operation and the upstream's error type or the network/TLS error code —
//   never the upstream's message text (an untrusted server chooses it), a credential or any plaintext; names that do
//   not look like an identifier are not repeated.
import { DataDefenderError, DependencyError, InvalidCiphertextError } from '../../../errors/index.js';

export type UpstreamOperation = 'DescribeKey' | 'Encrypt' | 'Decrypt';

type Meaning = 'ciphertext' | 'key' | 'refused' | 'throttled' | 'rejected' | 'failed';

/** AWS KMS (and AWS-wide) error types by meaning: AWS KMS API reference, "Errors" of Encrypt, Decrypt, DescribeKey. */
const UPSTREAM_ERRORS = {
  // Decrypt: the blob is not ours, was edited, or its context (our AAD digest) does not match.
  InvalidCiphertextException: 'ciphertext',
  // Decrypt with KeyId pinned: the blob was made under another key.
  IncorrectKeyException: 'ciphertext',
  // The upstream key cannot be used now.
  DisabledException: 'key',
  KMSInvalidStateException: 'key',
  NotFoundException: 'key',
  KeyUnavailableException: 'key',
  InvalidKeyUsageException: 'key',
  // Our credentials or permissions.
  AccessDeniedException: 'refused',
  UnrecognizedClientException: 'refused',
  InvalidSignatureException: 'refused',
  IncompleteSignatureException: 'refused',
  MissingAuthenticationTokenException: 'refused',
  InvalidClientTokenId: 'refused',
  SignatureDoesNotMatch: 'refused',
  ExpiredTokenException: 'refused',
  ExpiredToken: 'refused',
  RequestExpired: 'refused',
  InvalidGrantTokenException: 'refused',
  // Still throttled after the SDK's retries.
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  TooManyRequestsException: 'throttled',
  LimitExceededException: 'throttled',
  // A request the upstream would not take (our own input is validated, so this is a misbehaving upstream or a bug).
  ValidationException: 'rejected',
  UnknownOperationException: 'rejected',
  // The upstream failed.
  KMSInternalException: 'failed',
  DependencyTimeoutException: 'failed',
  ServiceUnavailable: 'failed',
  InternalFailure: 'failed',
} as const satisfies Record<string, Meaning>;

/** The DependencyError message of each meaning (a ciphertext refusal outside Decrypt is an upstream failure). */
const MESSAGES = {
  ciphertext: (op, name) => `The upstream KMS failed ${op}: ${name}.`,
  key: (op, name) => `The upstream KMS key cannot be used for ${op}: ${name}.`,
  refused: (op, name) => `The upstream KMS refused ${op}: ${name}.`,
  throttled: (op, name, attempts) => `The upstream KMS throttled ${op}${attempts}: ${name}.`,
  rejected: (op, name) => `The upstream KMS rejected the ${op} request: ${name}.`,
  failed: (op, name, attempts) => `The upstream KMS failed ${op}${attempts}: ${name}.`,
} as const satisfies Record<Meaning, (op: UpstreamOperation, name: string, attempts: string) => string>;

/** Node socket errors: the upstream cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Node TLS verification failures (the upstream's certificate is not trusted) and handshake failures. */
const TLS_CODE = /^(?:ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** JavaScript's own error names (SyntaxError when the SDK cannot parse an answer) and the SDK's `Unknown`: not the upstream's words. */
const JS_ERROR = /^(?:(?:[A-Z][a-z]*)?Error|Unknown)$/;

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.:-]{0,79}$/;
const safe = (name: unknown): string | undefined => (typeof name === 'string' && IDENTIFIER.test(name) ? name : undefined);

interface SdkError {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The first Node error code in the chain of causes (the SDK wraps some socket errors). */
function nodeCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as SdkError).cause, depth++) {
    const code = safe((e as SdkError).code);
    if (code && (NETWORK_CODES.has(code) || TLS_CODE.test(code))) return code;
  }
  return undefined;
}

const attemptsOf = (err: SdkError): string => {
  const n = err.$metadata?.attempts;
  return typeof n === 'number' && n > 1 ? ` after ${n} attempts` : '';
};

/** `The upstream KMS did not answer <op> within <ms> ms.` */
export function upstreamTimeout(op: UpstreamOperation, timeoutMs: number, cause?: unknown): DependencyError {
  return new DependencyError(`The upstream KMS did not answer ${op} within ${timeoutMs} ms.`, { cause });
}

/**
 * The DataDefender error for anything an upstream call threw.
 * @returns InvalidCiphertextError for a Decrypt the upstream refused because of the ciphertext; DependencyError otherwise.
 */
export function upstreamError(op: UpstreamOperation, err: unknown, timeoutMs: number): DataDefenderError {
  if (err instanceof DataDefenderError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkError;
  const name = safe(e.name);
  const meaning: Meaning | undefined = name !== undefined && Object.hasOwn(UPSTREAM_ERRORS, name) ? UPSTREAM_ERRORS[name as keyof typeof UPSTREAM_ERRORS] : undefined;
  const status = e.$metadata?.httpStatusCode;
  const cause = { cause: err };
  if (meaning === 'ciphertext' && op === 'Decrypt') return new InvalidCiphertextError(cause);
  if (meaning !== undefined) return new DependencyError(MESSAGES[meaning](op, name!, attemptsOf(e)), cause);
  const code = nodeCode(err);
  if (code !== undefined && TLS_CODE.test(code)) return new DependencyError(`The upstream KMS's TLS certificate is not trusted or the handshake failed: ${code}.`, cause);
  if (name === 'TimeoutError' || name === 'AbortError') return upstreamTimeout(op, timeoutMs, err);
  if (code !== undefined) return new DependencyError(`The upstream KMS is unreachable${attemptsOf(e)}: ${code}.`, cause);
  if (name === 'CredentialsProviderError') return new DependencyError('No credentials for the upstream KMS were found by the AWS SDK credential chain.', cause);
  // An answer the SDK could not map to an error type: its HTTP status, and the type only when the upstream named one.
  const type = name !== undefined && !JS_ERROR.test(name) ? ` ${name}` : '';
  if (typeof status === 'number' && status >= 500) return new DependencyError(`The upstream KMS failed ${op}${attemptsOf(e)}: HTTP ${status}${type}.`, cause);
  if (typeof status === 'number') return new DependencyError(`The upstream KMS refused ${op}: HTTP ${status}${type}.`, cause);
  return new DependencyError(`The upstream KMS call ${op} failed: ${name ?? 'an unexpected error'}.`, cause);
}
