/**
 * The CLI's HTTPS client for the native REST API.
 *
 * Invariants:
 * - TLS verification is always on (`rejectUnauthorized: true` is set explicitly, so NODE_TLS_REJECT_UNAUTHORIZED
 *   cannot turn it off); with a CA bundle, only that bundle is trusted. There is no insecure switch.
 * - The token goes only in the `Authorization: Bearer` header and never into an error message.
 * - Problem responses (RFC 9457) become {@link ApiError}s reading `<code>: <detail> (request <requestId>)`
 *   (plus how to get an approval for ERR_APPROVAL_REQUIRED); server-supplied text is stripped of control
 *   characters before it reaches the terminal.
 */
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ClientConfig } from './client-config.js';
import { ApiError, CliError } from './io.js';
import { printable } from './format.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiClient {
  readonly endpoint: string;
  /**
   * Sends one request; `path` starts with `/` and is appended to the endpoint. Resolves with the parsed JSON body
   * of a 2xx answer (`{}` when empty).
   * @throws ApiError for a non-2xx answer; CliError when the server cannot be reached, the TLS certificate does
   * not verify, the request times out, or the answer is not JSON.
   */
  request<T = unknown>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
}

export interface HttpClientOptions {
  /** Abort a request with no answer after this long (default 30 s). */
  timeoutMs?: number;
  /** Refuse answers larger than this (default 16 MiB). */
  maxResponseBytes?: number;
  /** The User-Agent header. */
  userAgent?: string;
}

/** OpenSSL/Node codes of certificate verification failures, which deserve a hint about --ca-bundle. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Turns a socket or TLS error into a message naming the endpoint. */
export function connectionErrorMessage(endpoint: string, err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (TLS_VERIFY_CODES.has(code)) {
    return `Cannot verify the TLS certificate of ${endpoint}: ${err.message} (${code}). Pass the CA certificate that signed the server's certificate with --ca-bundle <file> or DATADEFENDER_CA_BUNDLE.`;
  }
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running?)',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    EPROTO: 'TLS handshake failed',
  };
  return `Cannot reach ${endpoint}: ${why[code] ?? err.message}${code && !why[code] ? ` (${code})` : ''}.`;
}

function problemFrom(res: IncomingMessage, text: string): ApiError {
  const status = res.statusCode ?? 0;
  const headerId = res.headers['x-request-id'];
  const fallbackId = typeof headerId === 'string' ? headerId : undefined;
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: described by status below.
  }
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? printable(v) : undefined);
  const code = str(body?.code) ?? `HTTP_${status}`;
  const detail = str(body?.detail) ?? str(body?.title) ?? str(res.statusMessage) ?? 'request failed';
  // Shown inside a command to copy and run, so only an id of plain characters is kept.
  const approval = body?.approvalRequestId;
  const approvalRequestId = code === 'ERR_APPROVAL_REQUIRED' && typeof approval === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(approval) ? approval : undefined;
  return new ApiError({ status, code, detail, requestId: str(body?.requestId) ?? (fallbackId ? printable(fallbackId) : undefined), approvalRequestId });
}

/** Creates a client bound to one endpoint, token and (optional) CA bundle. */
export function createApiClient(config: ClientConfig, options: HttpClientOptions = {}): ApiClient {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const endpoint = config.endpoint.replace(/\/+$/, '');

  const request = <T>(method: HttpMethod, path: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      if (!path.startsWith('/')) throw new Error(`path must start with "/": ${path}`);
      const url = new URL(endpoint + path);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const req = httpsRequest(
        url,
        {
          method,
          agent: false,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(config.ca ? { ca: config.ca } : {}),
          ...(config.clientCertificate ? { cert: config.clientCertificate.cert, key: config.clientCertificate.key } : {}),
          headers: {
            ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
            accept: 'application/json, application/problem+json',
            'user-agent': options.userAgent ?? 'datadefender-cli',
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              fail(new CliError(`The answer from ${endpoint} is larger than ${maxBytes} bytes.`));
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err: NodeJS.ErrnoException) => fail(new CliError(connectionErrorMessage(endpoint, err), { cause: err })));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) return fail(problemFrom(res, text));
            if (text.trim() === '') {
              settled = true;
              return resolvePromise({} as T);
            }
            try {
              const parsed = JSON.parse(text) as T;
              settled = true;
              resolvePromise(parsed);
            } catch {
              fail(new CliError(`The answer from ${endpoint} (HTTP ${status}) is not JSON.`));
            }
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        fail(new CliError(`No answer from ${endpoint} within ${Math.round(timeoutMs / 1000)} s.`));
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => fail(new CliError(connectionErrorMessage(endpoint, err), { cause: err })));
      req.end(payload);
    });

  return { endpoint, request };
}
