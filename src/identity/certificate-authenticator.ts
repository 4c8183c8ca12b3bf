/**
 * Authenticates native-API requests by the client certificate of the TLS connection (mutual TLS), through the
 * fingerprint mapping of client-certificates.ts.
 * Invariants: the TLS handshake proved the client holds the certificate's private key (CertificateVerify), so an
 * exact-certificate (SHA-256 fingerprint) mapping authenticates whichever CA issued it; a certificate outside its
 * validity period, or past the mapping's notAfter, or of a disabled principal, does not authenticate; lookups are
 * cached for at most `cacheMs` so unmapping takes effect within it; a certificate the handshake found revoked (CRL)
 * or expired never authenticates, whatever the mapping says.
 */
import type { TLSSocket } from 'node:tls';
import { UnauthenticatedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { createLruCache } from '../core/lru-cache.js';
import type { CallerDirectory } from './caller-directory.js';
import { certificateFingerprint } from './client-certificates.js';

/** Handshake verification results that refuse a certificate even when it is mapped (pinned). */
const REFUSED_VERIFICATION = new Set(['CERT_REVOKED', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The caller of a connection's client certificate; undefined when the client presented none. */
export type CertificateAuthenticator = (socket: TLSSocket) => Promise<Caller | undefined>;

export function createCertificateAuthenticator(deps: { storage: Storage; callers: CallerDirectory; clock: Clock; cacheMs?: number }): CertificateAuthenticator {
  const { storage, callers, clock, cacheMs = 1000 } = deps;
  const mappings = createLruCache<{ principalId: string; notAfter: Date } | null>({ maxEntries: 10_000, ttlMs: cacheMs });
  const peers = new WeakMap<TLSSocket, { fingerprint: string; validFrom: Date; validTo: Date } | null>();
  const refuse = () => new UnauthenticatedError('The client certificate is not mapped to an active principal or is not valid now.');

  return async (socket) => {
    if (typeof socket.getPeerCertificate !== 'function') return undefined;
    // A connection's peer certificate never changes (no renegotiation): decoded and hashed once per connection.
    let peer = peers.get(socket);
    if (peer === undefined) {
      const certificate = socket.getPeerCertificate();
      peer = certificate && certificate.raw
        ? { fingerprint: certificateFingerprint(certificate.raw), validFrom: new Date(certificate.valid_from), validTo: new Date(certificate.valid_to) }
        : null;
      peers.set(socket, peer);
    }
    if (peer === null) return undefined;
    if (REFUSED_VERIFICATION.has(String(socket.authorizationError ?? ''))) throw refuse();
    const now = clock.now();
    if (!(peer.validFrom <= now && now < peer.validTo)) throw refuse();
    const { fingerprint } = peer;
    let mapping = mappings.get(fingerprint);
    if (mapping === undefined) {
      const record = await storage.getClientCertificate(fingerprint);
      mapping = record ? { principalId: record.principalId, notAfter: record.notAfter } : null;
      mappings.set(fingerprint, mapping);
    }
    if (mapping === null || mapping.notAfter <= now) throw refuse();
    const caller = await callers(mapping.principalId, `certificate:${fingerprint}`);
    if (!caller) throw refuse();
    return caller;
  };
}
