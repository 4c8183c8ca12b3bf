/**
 * AWS Signature Version 4 verification of a request's Authorization header, as AWS services do it.
 * Spec: AWS General Reference, "Create a signed AWS API request" (canonical request, string to sign, signing key);
 * ../shared/reference/aws-kms-protocol.md §1.3.
 * Invariants:
 * - the canonical request is rebuilt from the bytes received: the signed headers exactly as listed by the
 *   client, the raw path and query, and the SHA-256 of the exact body bytes; a client-sent
 *   `x-amz-content-sha256` must equal that hash (it cannot stand in for the body);
 * - the credential scope must be `<date>/<region>/<service>/aws4_request` with the request's own date, the
 *   server's region and service; `host` and the date header must be signed;
 * - the request time must be within ±5 minutes of the server's clock;
 * - signatures are compared in constant time, and only after every other check passed.
 */
import { constantTimeEqual, hmac, sha256Hex, type SecretBytes } from '../crypto/index.js';
import { UnauthenticatedError } from '../errors/index.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 5 * 60_000;

/** A request as it arrived, before any parsing of its body. */
export interface SignedRequest {
  method: string;
  /** Path as received (still percent-encoded), without the query. */
  path: string;
  /** Raw query string without `?` ('' if none). */
  query: string;
  /** Node's header map: lower-case names; repeated headers joined with ', '. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Uint8Array;
}

export interface Authorization {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const malformed = (message: string) => new UnauthenticatedError(message, 'malformed');
const badSignature = (message: string) => new UnauthenticatedError(message, 'bad-signature');

const CREDENTIAL = /^([A-Za-z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request$/;
const SIGNED_HEADERS = /^[a-z0-9-]+(;[a-z0-9-]+)*$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
/** The header exactly as the AWS SDKs and CLI write it (the general parser below handles any other spacing). */
const SDK_FORMAT =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, ?SignedHeaders=([a-z0-9-]+(?:;[a-z0-9-]+)*), ?Signature=([0-9a-f]{64})$/;

/**
 * Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
 * @throws UnauthenticatedError `missing` when absent, `malformed` when it cannot be parsed.
 */
export function parseAuthorization(header: string | undefined): Authorization {
  if (header === undefined || header.trim() === '') throw new UnauthenticatedError('Missing Authentication Token', 'missing');
  const usual = SDK_FORMAT.exec(header);
  if (usual) {
    return { accessKeyId: usual[1]!, date: usual[2]!, region: usual[3]!, service: usual[4]!, signedHeaders: usual[5]!.split(';'), signature: usual[6]! };
  }
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) throw malformed(`Unsupported authorization type; only ${SIGV4_ALGORITHM} is accepted.`);
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params.has(p));
  if (missing.length > 0) throw malformed(missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '));
  const credential = CREDENTIAL.exec(params.get('Credential')!);
  if (!credential) throw malformed('Authorization header has a malformed Credential parameter.');
  const signedHeaders = params.get('SignedHeaders')!;
  if (!SIGNED_HEADERS.test(signedHeaders)) throw malformed('Authorization header has a malformed SignedHeaders parameter.');
  const signature = params.get('Signature')!;
  if (!SIGNATURE.test(signature)) throw malformed('Authorization header has a malformed Signature parameter.');
  return {
    accessKeyId: credential[1]!,
    date: credential[2]!,
    region: credential[3]!,
    service: credential[4]!,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** RFC 3986 unreserved characters stay; everything else is %XX (upper-case), as SigV4 requires. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw badSignature('The request path or query is not valid percent-encoding.');
  }
}

/** Non-S3 canonical URI: normalized segments, each percent-encoded again (the SDKs double-encode). */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const trailing = path.endsWith('/') && segments.length > 0 ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      return [uriEncode(safeDecode(name)), uriEncode(safeDecode(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function headerValue(headers: SignedRequest['headers'], name: string): string {
  const value = headers[name];
  if (value === undefined) throw badSignature(`The signed header '${name}' is missing from the request.`);
  const joined = Array.isArray(value) ? value.join(',') : value;
  const trimmed = joined.trim();
  return WHITESPACE_RUN.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
}

/** Whitespace that canonicalization must collapse (anything but single spaces). */
const WHITESPACE_RUN = /\s\s|[\t\n\r\v\f]/;

/** The canonical request (SigV4 task 1) for `request` with the client's signed headers and payload hash. */
export function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  return [
    request.method,
    canonicalUri(request.path),
    canonicalQuery(request.query),
    ...signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}`),
    '',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The request time from `x-amz-date` (or `date`), and the header that carried it. */
function requestTime(headers: SignedRequest['headers']): { amzDate: string; time: Date; header: string } {
  const amz = headers['x-amz-date'];
  if (typeof amz === 'string') {
    const m = AMZ_DATE.exec(amz);
    if (!m) throw malformed(`Invalid X-Amz-Date value '${amz.slice(0, 32)}'; the format is yyyyMMddTHHmmssZ.`);
    const time = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    return { amzDate: amz, time, header: 'x-amz-date' };
  }
  const date = headers['date'];
  const time = typeof date === 'string' ? new Date(date) : new Date(NaN);
  if (Number.isNaN(time.getTime())) throw malformed('Authorization requires an X-Amz-Date or Date header.');
  return { amzDate: formatAmzDate(time), time, header: 'date' };
}

/** yyyyMMddTHHmmssZ */
export function formatAmzDate(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface VerificationPlan {
  authorization: Authorization;
  /** Builds the string to sign; call only once the credential is known. */
  stringToSign: string;
}

/**
 * Checks everything about a request that does not need the secret, and returns the string to sign.
 * @throws UnauthenticatedError (`missing`, `malformed` or `bad-signature`)
 */
export function prepareVerification(request: SignedRequest, expected: { region: string; service: string; now: Date }): VerificationPlan {
  const raw = request.headers['authorization'];
  const authorization = parseAuthorization(Array.isArray(raw) ? raw[0] : raw);
  const { amzDate, time, header } = requestTime(request.headers);
  if (!authorization.signedHeaders.includes('host')) throw malformed("The 'host' header must be signed.");
  if (!authorization.signedHeaders.includes(header)) throw malformed(`The '${header}' header must be signed.`);
  if (authorization.service !== expected.service) {
    throw badSignature(`Credential should be scoped to correct service: '${expected.service}'.`);
  }
  if (authorization.region !== expected.region) {
    throw badSignature(`Credential should be scoped to a valid region, not '${authorization.region}'.`);
  }
  if (authorization.date !== amzDate.slice(0, 8)) {
    throw badSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${authorization.date}' != '${amzDate.slice(0, 8)}'.`);
  }
  const now = expected.now.getTime();
  if (time.getTime() < now - MAX_SKEW_MS) {
    throw badSignature(`Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now - MAX_SKEW_MS))} (${formatAmzDate(expected.now)} - 5 min.)`);
  }
  if (time.getTime() > now + MAX_SKEW_MS) {
    throw badSignature(`Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now + MAX_SKEW_MS))} (${formatAmzDate(expected.now)} + 5 min.)`);
  }
  const payloadHash = sha256Hex(request.body);
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash) {
    throw badSignature('The provided x-amz-content-sha256 header does not match the SHA-256 of the request body.');
  }
  const scope = `${authorization.date}/${authorization.region}/${authorization.service}/aws4_request`;
  const canonical = canonicalRequest(request, authorization.signedHeaders, payloadHash);
  const stringToSign = [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(Buffer.from(canonical, 'utf8'))].join('\n');
  return { authorization, stringToSign };
}

/**
 * Compares the request's signature with the one computed under `signingKey`, in constant time.
 * @throws UnauthenticatedError `bad-signature` on mismatch.
 */
export function checkSignature(plan: VerificationPlan, signingKey: SecretBytes | Uint8Array): void {
  const expected = hmac('sha256', signingKey, Buffer.from(plan.stringToSign, 'utf8'));
  if (!constantTimeEqual(expected, Buffer.from(plan.authorization.signature, 'hex'))) {
    throw badSignature(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
}
