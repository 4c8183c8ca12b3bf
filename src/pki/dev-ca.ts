/**
 * Dev-mode TLS material (DESIGN.md §6): a local root CA and a server certificate it signed, kept in one directory.
 *
 * Invariants:
 * - The directory is mode 0700; private keys are PKCS#8 PEM files of mode 0600, certificates 0644 (pem-files.ts).
 * - Existing files are reused as long as they are sound: a restart keeps the same CA and server certificate, so a
 *   client that trusts `ca.pem` keeps working.
 * - The CA is replaced only when a file of the pair is missing or it is not valid for 30 more days. A CA pair that
 *   exists but is unreadable, not a CA or mismatched is an error, never silently replaced.
 * - The server certificate is replaced when missing, unreadable, not signed by the current CA, not matching its key,
 *   not valid for 30 more days, or not covering every requested host plus localhost, 127.0.0.1 and ::1.
 * - Files are replaced atomically, and the certificate of a pair is removed before its key is replaced, so a crash
 *   between the two writes leaves a missing certificate (reissued at next start), never a mismatched pair.
 * - Not safe against two processes initialising the same directory at the same moment (no lock): dev mode runs one
 *   server per data directory.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidStateError } from '../errors/index.js';
import { loadCertificateIssuer, type CertificateIssuer } from './certificate-issuer.js';
import { createRootCa } from './create-root-ca.js';
import { issueServerCertificate } from './issue-server-certificate.js';
import {
  CERTIFICATE_FILE_MODE,
  KEY_DIRECTORY_MODE,
  PRIVATE_KEY_FILE_MODE,
  enforceMode,
  readFileIfExists,
  writeFileAtomic,
} from './pem-files.js';
import { certificateCoversHosts, serverCertificateHosts, type CertificateHost } from './subject-alt-names.js';
import { addYears, backdated, usableFor } from './validity.js';

/** Subject CN of the dev CA. */
export const DEV_CA_COMMON_NAME = 'DataDefender Dev CA';
/** Validity of a new dev CA, in years. */
export const DEV_CA_VALIDITY_YEARS = 10;
/** A certificate that expires within this many days is replaced at start. */
export const RENEWAL_MARGIN_DAYS = 30;

/** File names inside the dev TLS directory. */
export const DEV_TLS_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
} as const;

/** Options of {@link ensureDevCertificates}. */
export interface DevCertificateOptions {
  /** Host names and IP addresses the server certificate must cover (besides localhost, 127.0.0.1 and ::1). */
  hosts: string[];
  /** The current time; defaults to the system clock. */
  now?: Date;
}

/** Dev TLS material: file paths and contents. */
export interface DevCertificates {
  /** The CA certificate clients should trust. */
  caCertFile: string;
  /** The server certificate (leaf only). */
  certFile: string;
  /** The server private key (PKCS#8). */
  keyFile: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Makes sure `dir` holds a dev root CA and a current server certificate for `options.hosts`, creating or replacing
 * what is missing or stale, and returns them.
 * @throws ValidationError (ERR_VALIDATION) when a host is neither an IP address nor a valid DNS name.
 * @throws InvalidStateError (ERR_INVALID_STATE) when `ca.pem` and `ca-key.pem` exist but are unusable.
 * File system errors are thrown as they are.
 */
export async function ensureDevCertificates(dir: string, options: DevCertificateOptions): Promise<DevCertificates> {
  const now = options.now ?? new Date();
  const hosts = serverCertificateHosts(options.hosts);
  await mkdir(dir, { recursive: true, mode: KEY_DIRECTORY_MODE });
  await chmod(dir, KEY_DIRECTORY_MODE);

  const caCertFile = join(dir, DEV_TLS_FILES.caCert);
  const caKeyFile = join(dir, DEV_TLS_FILES.caKey);
  const certFile = join(dir, DEV_TLS_FILES.serverCert);
  const keyFile = join(dir, DEV_TLS_FILES.serverKey);

  const ca = await ensureCa(caCertFile, caKeyFile, now);
  const server = await ensureServerCertificate(certFile, keyFile, ca.issuer, hosts, now);
  return { caCertFile, certFile, keyFile, caCertPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}

async function ensureCa(certFile: string, keyFile: string, now: Date): Promise<{ issuer: CertificateIssuer; certPem: string }> {
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certFile), readFileIfExists(keyFile)]);
  if (certPem !== undefined && keyPem !== undefined) {
    let issuer: CertificateIssuer;
    try {
      issuer = await loadCertificateIssuer(certPem, keyPem);
    } catch (cause) {
      throw new InvalidStateError(
        `The dev CA in ${certFile} and ${keyFile} is unusable (unreadable, not a CA, or not a matching pair). ` +
          'Remove both files to create a new dev CA.',
        { cause },
      );
    }
    if (usableFor(new NodeX509Certificate(certPem), now, RENEWAL_MARGIN_DAYS)) {
      await enforceMode(keyFile, PRIVATE_KEY_FILE_MODE);
      return { issuer, certPem };
    }
  }
  const created = await createRootCa({
    commonName: DEV_CA_COMMON_NAME,
    notBefore: backdated(now),
    notAfter: addYears(now, DEV_CA_VALIDITY_YEARS),
    pathLength: 0,
  });
  await writePair(certFile, keyFile, created);
  return { issuer: await loadCertificateIssuer(created.certPem, created.keyPem), certPem: created.certPem };
}

async function ensureServerCertificate(
  certFile: string,
  keyFile: string,
  issuer: CertificateIssuer,
  hosts: readonly CertificateHost[],
  now: Date,
): Promise<{ certPem: string; keyPem: string }> {
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certFile), readFileIfExists(keyFile)]);
  if (certPem !== undefined && keyPem !== undefined && serverCertificateIsCurrent(certPem, keyPem, issuer, hosts, now)) {
    await enforceMode(keyFile, PRIVATE_KEY_FILE_MODE);
    return { certPem, keyPem };
  }
  const issued = await issueServerCertificate(issuer, hosts, now);
  await writePair(certFile, keyFile, issued);
  return issued;
}

function serverCertificateIsCurrent(
  certPem: string,
  keyPem: string,
  issuer: CertificateIssuer,
  hosts: readonly CertificateHost[],
  now: Date,
): boolean {
  try {
    const certificate = new NodeX509Certificate(certPem);
    const caCertificate = new NodeX509Certificate(issuer.certificatePem);
    return (
      certificate.checkIssued(caCertificate) &&
      certificate.verify(caCertificate.publicKey) &&
      certificate.checkPrivateKey(createPrivateKey(keyPem)) &&
      usableFor(certificate, now, RENEWAL_MARGIN_DAYS) &&
      certificateCoversHosts(certificate, hosts)
    );
  } catch {
    return false;
  }
}

/** Replaces a certificate and its key: certificate removed first, key written, certificate written last. */
async function writePair(certFile: string, keyFile: string, pair: { certPem: string; keyPem: string }): Promise<void> {
  await rm(certFile, { force: true });
  await writeFileAtomic(keyFile, pair.keyPem, PRIVATE_KEY_FILE_MODE);
  await writeFileAtomic(certFile, pair.certPem, CERTIFICATE_FILE_MODE);
}
