/**
 * Client certificates (mutual TLS) mapped to principals, by the SHA-256 fingerprint of the certificate's DER.
 * A request over a TLS connection whose client presented a mapped certificate authenticates as its principal
 * (certificate-authenticator.ts). Mapping the exact certificate is pinning: it holds whichever CA issued it.
 * Invariants: only a parseable X.509 certificate that has not expired is mapped; one certificate maps to one
 * principal; the private key is never sent here.
 */
import { X509Certificate } from 'node:crypto';
import { sha256Hex } from '../crypto/index.js';
import { NotFoundError, ValidationError } from '../errors/index.js';
import type { ClientCertificateRecord } from '../ports/storage.js';
import type { RequestContext } from '../core/request-context.js';
import { anyPrincipal, credentialGrantsDecryption, ddAction, principalNamed, type IdentityContext } from './identity-context.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const MAX_PEM_CHARS = 16_384;

/** `AB:CD:...` or `abcd...` -> 64 lower-case hex chars, or undefined. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value.replace(/:/g, '').toLowerCase();
  return FINGERPRINT.test(hex) ? hex : undefined;
}

export function certificateFingerprint(der: Uint8Array): string {
  return sha256Hex(der);
}

export function clientCertificateView(c: ClientCertificateRecord, principalName: string) {
  return { fingerprint: c.fingerprint, principal: principalName, subject: c.subject, notAfter: c.notAfter.toISOString(), createdAt: c.createdAt.toISOString() };
}

function parse(pem: string): X509Certificate {
  if (typeof pem !== 'string' || pem.length > MAX_PEM_CHARS || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ValidationError('The certificate must be one PEM-encoded X.509 certificate.');
  }
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ValidationError('The certificate must be one PEM-encoded X.509 certificate.');
  }
}

export function createClientCertificates(ic: IdentityContext) {
  const { storage, run, clock } = ic;

  const find = async (fingerprint: string) => {
    const fp = normalizeFingerprint(fingerprint);
    const record = fp === undefined ? undefined : await storage.getClientCertificate(fp);
    const principal = record && (await storage.getPrincipal(record.principalId));
    if (!record || !principal) throw new NotFoundError(`Client certificate ${fingerprint.slice(0, 100)} is not mapped.`, anyPrincipal(ic));
    return { record, principal };
  };

  return {
    /** @throws ValidationError (not a certificate, expired), AlreadyExistsError, NotFoundError */
    map(ctx: RequestContext, principalName: string, certificatePem: string) {
      return run(ctx, 'MapClientCertificate', { readOnly: false, action: ddAction('MapClientCertificate') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        op.details.principal = principal.arn;
        await op.authorize({ arn: principal.arn }, undefined, undefined, { sensitive: await credentialGrantsDecryption(ic, ctx.caller.principalId, principal) });
        const certificate = parse(certificatePem);
        const now = clock.now();
        const notAfter = new Date(certificate.validTo);
        if (!(notAfter > now)) throw new ValidationError('The certificate has expired.');
        const record: ClientCertificateRecord = {
          fingerprint: certificateFingerprint(certificate.raw),
          principalId: principal.id,
          subject: certificate.subject.replace(/\n/g, ', '),
          notAfter,
          createdAt: now,
        };
        op.details.fingerprint = record.fingerprint;
        await op.beforeChange();
        await storage.createClientCertificate(record);
        return clientCertificateView(record, principal.name);
      });
    },

    list(ctx: RequestContext, principalName: string) {
      return run(ctx, 'ListClientCertificates', { readOnly: true, action: ddAction('ListClientCertificates') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        await op.authorize({ arn: principal.arn });
        return (await storage.listClientCertificates(principal.id)).map((c) => clientCertificateView(c, principal.name));
      });
    },

    unmap(ctx: RequestContext, fingerprint: string) {
      return run(ctx, 'UnmapClientCertificate', { readOnly: false, action: ddAction('UnmapClientCertificate') }, async (op) => {
        const { record, principal } = await find(fingerprint);
        Object.assign(op.details, { principal: principal.arn, fingerprint: record.fingerprint });
        await op.authorize({ arn: principal.arn });
        await op.beforeChange();
        if (!(await storage.deleteClientCertificate(record.fingerprint))) throw new NotFoundError(`Client certificate ${fingerprint} is not mapped.`);
      });
    },
  };
}

export type ClientCertificates = ReturnType<typeof createClientCertificates>;
