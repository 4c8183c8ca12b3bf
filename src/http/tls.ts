/**
 * The server's TLS policy and the security headers of every response.
 *
 * Invariants:
 * - TLS 1.2 and 1.3 only (minVersion TLSv1.2). SSL 3.0, TLS 1.0 and 1.1 are refused (RFC 8996).
 * - TLS 1.2 suites: ephemeral ECDHE key exchange (forward secrecy) with an AEAD only: AES-GCM or ChaCha20-Poly1305,
 *   with ECDSA or RSA authentication (the Mozilla "intermediate" list). No static RSA key exchange, no finite-field
 *   DHE, no CBC, RC4, 3DES, NULL, anonymous or export suites (RFC 9325 §4.2).
 * - TLS 1.3 suites: OpenSSL's defaults, listed explicitly because Node takes both lists from one `ciphers` string.
 * - The server's order wins (honorCipherOrder); key exchange groups X25519, P-256, P-384.
 * - No stateless session tickets: Node never rotates the ticket key it generates at start, so a ticket key stolen
 *   from memory would decrypt every recorded session that resumed with it (loss of forward secrecy).
 * - No renegotiation (TLS 1.2; TLS 1.3 has none): it is a DoS lever and the root of the 2009 prefix attack.
 * - Mutual TLS has three modes (`clientAuth`): `off` asks for no certificate; `optional` (the default when `caPem` is
 *   given) asks for one and completes the handshake without it, so token and SigV4 clients keep working; `required`
 *   refuses at the handshake a client without a certificate chaining to `caPem`, or with an expired one, or (with
 *   `crlPems`) a revoked one. With CRLs, OpenSSL checks every certificate of the chain against them.
 * - With `optional`, clients MAY present a certificate; the handshake still succeeds without one. The handshake proves the client holds the certificate's key; `socket.authorized`
 *   says whether it chains to `caPem`. The identity layer authenticates only certificates mapped to a principal by
 *   their exact fingerprint (identity/certificate-authenticator.ts), never `getPeerCertificate()` alone.
 */
import { constants } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import { ValidationError } from '../errors/index.js';

/** TLS 1.3 cipher suites: OpenSSL's default set and order (all AEAD, all forward-secret by design). */
export const TLS13_CIPHER_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] as const;

/** TLS 1.2 cipher suites (OpenSSL names): ECDHE + AEAD only, in preference order. */
export const TLS12_CIPHER_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** Key exchange groups, in preference order. */
export const ECDH_CURVES = 'X25519:P-256:P-384';

/** Headers the server sets on every response. */
export const SECURITY_HEADERS: Record<string, string> = Object.freeze({
  // RFC 6797: HTTPS only, for two years, subdomains included.
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  // Responses carry key material and secrets: never store them in any cache.
  'cache-control': 'no-store',
});

/** Certificate, key and, optionally, the CA that client certificates must chain to. */
export interface ServerTlsMaterial {
  /** The server certificate (PEM), optionally followed by intermediates. */
  certPem: string;
  /** The server private key (PEM). */
  keyPem: string;
  /** When given, client certificates are requested and verified against this CA (optional mTLS). */
  caPem?: string;
  /** CRLs of the client CAs (PEM); revoked client certificates then fail verification. */
  crlPems?: readonly string[];
  /** Mutual TLS mode; `optional` when omitted and `caPem` is given. */
  clientAuth?: ClientAuthMode;
}

/** Mutual TLS modes of a listener. */
export const CLIENT_AUTH_MODES = ['off', 'optional', 'required'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

/**
 * The `node:https` server options that implement the TLS policy above, for `material`.
 * @throws ValidationError (ERR_VALIDATION) when mutual TLS is on without a CA; an invalid certificate or key makes
 *   the server constructor (or setSecureContext) throw.
 */
export function serverTlsOptions(material: ServerTlsMaterial): ServerOptions {
  return {
    cert: material.certPem,
    key: material.keyPem,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: [...TLS13_CIPHER_SUITES, ...TLS12_CIPHER_SUITES].join(':'),
    honorCipherOrder: true,
    ecdhCurve: ECDH_CURVES,
    secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
    ...clientAuthOptions(material),
  };
}

function clientAuthOptions(material: ServerTlsMaterial): ServerOptions {
  const mode = material.clientAuth ?? (material.caPem === undefined ? 'off' : 'optional');
  if (mode === 'off') return {};
  if (material.caPem === undefined || material.caPem === '') throw new ValidationError(`Mutual TLS '${mode}' needs the CA that client certificates chain to.`);
  return {
    ca: material.caPem,
    ...(material.crlPems && material.crlPems.length > 0 ? { crl: [...material.crlPems] } : {}),
    requestCert: true,
    rejectUnauthorized: mode === 'required',
  };
}
