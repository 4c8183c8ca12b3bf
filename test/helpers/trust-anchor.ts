// A self-signed certificate in PEM, as the TrustAnchorCertificate of a custom key store (DataDefender stores it
// as given; AWS would compare it with the cluster's).
import { execFileSync } from 'node:child_process';

let cached: string | undefined;

export function trustAnchorPem(): string {
  cached ??= execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=customerCA', '-days', '365'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return cached;
}
