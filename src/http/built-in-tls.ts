/**
 * The TLS material a listener serves and its upkeep: the operator's own certificate, or one from the built-in CA
 * renewed at two thirds of its lifetime and swapped in without a restart; the client trust (CAs and CRLs) for
 * mutual TLS, refreshed on every CA change and revocation.
 *
 * Invariants:
 * - With the built-in CA the server key is a fresh ECDSA P-256 key per certificate; the certificate, its key (0600)
 *   and the CA bundle are also written to the TLS directory, so a server restarting sealed can serve the last one.
 * - A server that starts sealed with no certificate at all serves a bootstrap certificate from a file-based CA
 *   (dev-ca.ts) and says so; renewal replaces it by a built-in CA certificate as soon as the root is unsealed.
 * - CRLs go into the handshake only when every trusted CA is a root of ours: OpenSSL then checks every certificate
 *   of a chain against a CRL (CRL_CHECK_ALL), which an operator's root above an intermediate does not publish here.
 *   Revocation is enforced at the first request in any case (the revoked certificate's mapping is removed).
 * - Failures of renewal or trust refresh are logged and retried; the current material keeps serving.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AccountScope } from '../core/arn.js';
import { SealedError } from '../errors/index.js';
import { jobContext } from '../core/job-context.js';
import type { CertificateAuthority, ServerTlsCertificate } from '../pki/certificate-authority.js';
import { ensureDevCertificates } from '../pki/dev-ca.js';
import { CERTIFICATE_FILE_MODE, KEY_DIRECTORY_MODE, PRIVATE_KEY_FILE_MODE, readFileIfExists, writeFileAtomic } from '../pki/pem-files.js';
import { startServerCertificateRenewal } from '../pki/server-certificate-renewal.js';
import { CLOCK_SKEW_MS } from '../pki/validity.js';
import type { ClientAuthMode, ServerTlsMaterial } from './tls.js';
import type { TlsSwitch } from './tls-switch.js';

export interface BuiltInTlsOptions {
  ca: CertificateAuthority;
  /** Where the served certificate, its key and the CA bundle are written (`server.pem`, `server-key.pem`, `ca.pem`). */
  tlsDir: string;
  hosts: string[];
  lifetimeSeconds: number;
  clientAuth: ClientAuthMode;
  /** The operator's own certificate and key (PEM) instead of the built-in CA's. */
  operator?: { certPem: string; keyPem: string; certFile: string };
  /** The operator's CA bundle for client certificates instead of the built-in CA. */
  clientCaPem?: string;
  caCommonName: string;
  sealed: () => boolean;
  scope: AccountScope;
  logger: Pick<Logger, 'warn' | 'error' | 'info'>;
  now: () => Date;
}

/** What the server presents, for status. */
export interface ServingCertificate {
  serial: string;
  issuedAt: Date;
  notAfter: Date;
  source: 'operator' | 'built-in' | 'bootstrap';
}

export interface PreparedTls {
  material: ServerTlsMaterial;
  /** The CA certificate(s) clients should trust. */
  caCertFile: string;
  serving: ServingCertificate;
}

const FILES = { cert: 'server.pem', key: 'server-key.pem', ca: 'ca.pem', caKey: 'ca-key.pem' } as const;

function describe(certPem: string, source: ServingCertificate['source'], issuedAt?: Date): ServingCertificate {
  const certificate = new X509Certificate(certPem);
  const notBefore = new Date(certificate.validFrom);
  return {
    serial: certificate.serialNumber.toLowerCase(),
    issuedAt: issuedAt ?? new Date(notBefore.getTime() + CLOCK_SKEW_MS),
    notAfter: new Date(certificate.validTo),
    source,
  };
}

async function writeServed(dir: string, issued: ServerTlsCertificate, caPem: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: KEY_DIRECTORY_MODE });
  await chmod(dir, KEY_DIRECTORY_MODE);
  await writeFileAtomic(join(dir, FILES.key), issued.keyPem, PRIVATE_KEY_FILE_MODE);
  await writeFileAtomic(join(dir, FILES.cert), issued.certPem, CERTIFICATE_FILE_MODE);
  if (caPem) await writeFileAtomic(join(dir, FILES.ca), caPem, CERTIFICATE_FILE_MODE);
}

async function trustOf(o: BuiltInTlsOptions): Promise<{ caPem?: string; crlPems?: string[] }> {
  if (o.clientCaPem) return { caPem: o.clientCaPem };
  if (!(await o.ca.initialized())) return {};
  try {
    const trust = await o.ca.clientTrust();
    return trust.caPem ? { caPem: trust.caPem, ...(trust.withCrls ? { crlPems: trust.crlPems } : {}) } : {};
  } catch {
    // Sealed: the CRLs cannot be signed yet. Trust the CA certificates; revocation is enforced per request.
    const caPem = await o.ca.caBundle();
    return caPem ? { caPem } : {};
  }
}

/** Issues (or creates the CA and issues) a server certificate and writes it out. @throws SealedError, InvalidStateError */
async function issueBuiltIn(o: BuiltInTlsOptions): Promise<ServerTlsCertificate> {
  // Not even attempted while sealed: the runner would refuse it, and audit a refusal at every retry.
  if (o.sealed()) throw new SealedError('sealed: the built-in CA cannot sign until the root of trust is unsealed');
  const ctx = jobContext(o.scope);
  if (!(await o.ca.initialized())) {
    // A file-based CA left by operator init (sealed first start) or an older dev mode is taken over, so clients that
    // trust its certificate keep working; from then on its key exists only wrapped by the root of trust. With the
    // pkcs11 root the file CA is not taken over: a new CA is generated inside the HSM (pki/certificate-authority.ts).
    const [caPem, caKeyPem] = await Promise.all([readFileIfExists(join(o.tlsDir, FILES.ca)), readFileIfExists(join(o.tlsDir, FILES.caKey))]);
    const adopt = caPem && caKeyPem ? { certPem: caPem, keyPem: caKeyPem } : undefined;
    await o.ca.init(ctx, { kind: 'root', commonName: o.caCommonName, ...(adopt ? { adopt } : {}) });
    if (adopt) await rm(join(o.tlsDir, FILES.caKey), { force: true });
  }
  const issued = await o.ca.issueServerCertificate(ctx, o.hosts, o.lifetimeSeconds);
  await writeServed(o.tlsDir, issued, await o.ca.caBundle());
  return issued;
}

/**
 * The material a listener starts with.
 * @throws ValidationError (mutual TLS without any CA), file system errors
 */
export async function prepareServerTls(o: BuiltInTlsOptions): Promise<PreparedTls> {
  let prepared: Omit<PreparedTls, 'material'> & { certPem: string; keyPem: string };
  if (o.operator) {
    prepared = { ...o.operator, caCertFile: o.operator.certFile, serving: describe(o.operator.certPem, 'operator') };
  } else if (!o.sealed()) {
    const issued = await issueBuiltIn(o);
    prepared = { certPem: issued.certPem, keyPem: issued.keyPem, caCertFile: join(o.tlsDir, FILES.ca), serving: { ...describe(issued.certPem, 'built-in', issued.issuedAt) } };
  } else {
    const [certPem, keyPem, caPem, caKeyPem] = await Promise.all([FILES.cert, FILES.key, FILES.ca, FILES.caKey].map((f) => readFileIfExists(join(o.tlsDir, f))));
    if (certPem && keyPem && caPem && caKeyPem === undefined && new Date(new X509Certificate(certPem).validTo) > o.now()) {
      prepared = { certPem, keyPem, caCertFile: join(o.tlsDir, FILES.ca), serving: describe(certPem, 'built-in') };
    } else {
      // operator init's file-based CA (or a fresh one): served until the root is unsealed, then taken over and renewed.
      o.logger.warn('Sealed before the built-in CA took over: serving a bootstrap certificate until the root is unsealed.');
      const dev = await ensureDevCertificates(o.tlsDir, { hosts: o.hosts, now: o.now() });
      prepared = { certPem: dev.certPem, keyPem: dev.keyPem, caCertFile: dev.caCertFile, serving: { ...describe(dev.certPem, 'bootstrap'), issuedAt: new Date(0) } };
    }
  }
  let trust = o.clientAuth === 'off' ? {} : await trustOf(o);
  if (o.clientAuth !== 'off' && !trust.caPem) {
    // No CA yet (sealed first start): client certificates cannot verify until one exists; trust the bootstrap CA only.
    trust = { caPem: await readFile(prepared.caCertFile, 'utf8') };
  }
  return {
    material: { certPem: prepared.certPem, keyPem: prepared.keyPem, clientAuth: o.clientAuth, ...trust },
    caCertFile: prepared.caCertFile,
    serving: prepared.serving,
  };
}

/**
 * Keeps a listener's material current: renewal of built-in certificates, client trust after CA changes and
 * revocations (and every 6 hours, so CRLs never reach their nextUpdate).
 */
export function maintainServerTls(o: BuiltInTlsOptions, tls: TlsSwitch, prepared: PreparedTls) {
  const refreshTrust = async () => {
    if (o.clientAuth === 'off' || o.clientCaPem) return;
    try {
      const trust = await trustOf(o);
      if (trust.caPem) tls.update({ caPem: trust.caPem, crlPems: trust.crlPems ?? [] });
    } catch (err) {
      o.logger.error({ err }, 'refreshing the client CA trust failed');
    }
  };
  o.ca.onChange(() => void refreshTrust());
  const trustTimer = setInterval(() => void refreshTrust(), 6 * 60 * 60 * 1000);
  trustTimer.unref();
  let serving = prepared.serving;
  const renewal = o.operator
    ? undefined
    : startServerCertificateRenewal(
        {
          now: o.now,
          issue: async () => issueBuiltIn(o),
          apply: async (issued) => {
            tls.update({ certPem: issued.certPem, keyPem: issued.keyPem });
            serving = describe(issued.certPem, 'built-in', issued.issuedAt);
            o.logger.info(`TLS server certificate renewed (serial ${serving.serial}, valid until ${serving.notAfter.toISOString()})`);
            await refreshTrust();
          },
          onError: (err) => {
            if (!(err instanceof SealedError)) o.logger.error({ err }, 'renewing the TLS server certificate failed; retrying');
          },
          // Short enough that a bootstrap certificate is replaced within seconds of the unseal.
          retryMs: Math.min(5_000, Math.max(1000, (o.lifetimeSeconds * 1000) / 30)),
        },
        { serial: serving.serial, issuedAt: serving.issuedAt, notAfter: serving.notAfter, certPem: prepared.material.certPem, keyPem: prepared.material.keyPem },
      );
  return {
    serving: () => ({ ...serving, renewAt: renewal ? renewal.renewAt() : null }),
    async stop() {
      clearInterval(trustTimer);
      await renewal?.stop();
    },
  };
}

/** The options above from the server configuration's TLS settings. */
export async function builtInTlsOptions(
  config: {
    dev: boolean;
    host: string;
    tlsCertFile?: string | undefined;
    tlsKeyFile?: string | undefined;
    tlsClientAuth: ClientAuthMode;
    tlsClientCaFile?: string | undefined;
    tlsCertificateLifetimeSeconds: number;
  },
  deps: Pick<BuiltInTlsOptions, 'ca' | 'tlsDir' | 'sealed' | 'scope' | 'logger' | 'now'>,
): Promise<BuiltInTlsOptions> {
  return {
    ...deps,
    hosts: [config.host],
    lifetimeSeconds: config.tlsCertificateLifetimeSeconds,
    clientAuth: config.tlsClientAuth,
    caCommonName: config.dev ? 'DataDefender Dev CA' : 'DataDefender CA',
    ...(config.tlsCertFile && config.tlsKeyFile
      ? { operator: { certPem: await readFile(config.tlsCertFile, 'utf8'), keyPem: await readFile(config.tlsKeyFile, 'utf8'), certFile: config.tlsCertFile } }
      : {}),
    ...(config.tlsClientCaFile ? { clientCaPem: await readFile(config.tlsClientCaFile, 'utf8') } : {}),
  };
}
