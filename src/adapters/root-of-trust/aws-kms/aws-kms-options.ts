// The options of the aws-kms root of trust, validated once at open.
// Invariants: the endpoint, when given, is https (TLS verification is never turned off: a private upstream is
// trusted through caBundlePem, which replaces the default trust store for this client only); credentials, when
// given, are complete; absent credentials mean the SDK's standard chain (environment, shared files, SSO, web
// identity, container and instance metadata). Secrets are resolved by the caller (config), never read here.
import { ValidationError } from '../../../errors/index.js';

export interface AwsKmsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsKmsRootOfTrustOptions {
  /** The upstream key: key id, key ARN, alias name (`alias/…`) or alias ARN. It is resolved once, at open, to its ARN. */
  keyId: string;
  /** The upstream's region, e.g. `eu-west-1`. */
  region: string;
  /** An `https://` endpoint (an AWS-KMS-compatible server, a VPC endpoint); absent: the region's AWS endpoint. */
  endpoint?: string;
  /** Static credentials; absent: the AWS SDK's standard credential chain. */
  credentials?: AwsKmsCredentials;
  /** PEM CA certificates the upstream's TLS certificate must chain to, instead of Node's default trust store. */
  caBundlePem?: string;
  /** Deadline of one operation (all attempts included), in ms: default 10 000, from 100 to 600 000. */
  timeoutMs?: number;
  /** Attempts per call, the first included (the SDK's standard retry mode): default 3, from 1 to 10. */
  maxAttempts?: number;
  /** How long `health()` reuses its last answer, in ms: default 5 000, from 0 to 600 000. */
  healthCacheMs?: number;
}

export interface ValidAwsKmsOptions {
  keyId: string;
  region: string;
  endpoint: string | undefined;
  credentials: AwsKmsCredentials | undefined;
  caBundlePem: string | undefined;
  timeoutMs: number;
  maxAttempts: number;
  healthCacheMs: number;
}

const MAX_KEY_ID_CHARS = 2048; // AWS KMS KeyId: 1 to 2048 characters
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

const isNonEmptyString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

function integer(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ValidationError(`aws-kms ${name} must be an integer from ${min} to ${max}.`);
  }
  return value as number;
}

function endpointOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    throw new ValidationError('aws-kms endpoint must be an https:// URL without credentials.');
  }
  return value as string;
}

function credentialsOf(value: unknown): AwsKmsCredentials | undefined {
  if (value === undefined) return undefined;
  const c = value as Partial<AwsKmsCredentials> | null;
  if (typeof c !== 'object' || c === null || !isNonEmptyString(c.accessKeyId) || !isNonEmptyString(c.secretAccessKey)) {
    throw new ValidationError('aws-kms credentials need a non-empty accessKeyId and secretAccessKey.');
  }
  if (c.sessionToken !== undefined && !isNonEmptyString(c.sessionToken)) {
    throw new ValidationError('aws-kms credentials sessionToken must be a non-empty string when given.');
  }
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }) };
}

/** @throws ValidationError (ERR_VALIDATION) naming the first invalid option (never its value when it is a secret). */
export function validateAwsKmsOptions(options: AwsKmsRootOfTrustOptions): ValidAwsKmsOptions {
  if (typeof options !== 'object' || options === null) throw new ValidationError('aws-kms options are required.');
  if (!isNonEmptyString(options.keyId) || options.keyId.length > MAX_KEY_ID_CHARS || options.keyId.trim() !== options.keyId) {
    throw new ValidationError(`aws-kms keyId must be a key id, key ARN, alias or alias ARN of 1 to ${MAX_KEY_ID_CHARS} characters.`);
  }
  if (!isNonEmptyString(options.region) || !REGION.test(options.region)) throw new ValidationError('aws-kms region must be a region name such as eu-west-1.');
  const caBundlePem = options.caBundlePem;
  if (caBundlePem !== undefined && (typeof caBundlePem !== 'string' || !PEM_CERTIFICATE.test(caBundlePem))) {
    throw new ValidationError('aws-kms caBundlePem must hold at least one PEM certificate.');
  }
  return {
    keyId: options.keyId,
    region: options.region,
    endpoint: endpointOf(options.endpoint),
    credentials: credentialsOf(options.credentials),
    caBundlePem,
    timeoutMs: integer(options.timeoutMs, 10_000, 100, 600_000, 'timeoutMs'),
    maxAttempts: integer(options.maxAttempts, 3, 1, 10, 'maxAttempts'),
    healthCacheMs: integer(options.healthCacheMs, 5_000, 0, 600_000, 'healthCacheMs'),
  };
}
