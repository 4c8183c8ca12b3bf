// Recognizing a PEM X.509 certificate (custom key stores keep the trust anchor a CloudHSM cluster was initialized
// with; DataDefender stores it as given and checks only that it is one certificate).
// Invariant: only a single `CERTIFICATE` PEM block that node:crypto parses as X.509 is accepted.
import { X509Certificate } from 'node:crypto';

const ONE_CERTIFICATE = /^\s*-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

/** True when `pem` is exactly one PEM-encoded X.509 certificate. */
export function isPemCertificate(pem: string): boolean {
  if (typeof pem !== 'string' || !ONE_CERTIFICATE.test(pem)) return false;
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
