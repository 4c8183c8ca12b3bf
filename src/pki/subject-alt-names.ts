/**
 * Host names and addresses a server certificate is valid for (RFC 5280 §4.2.1.6 subjectAltName).
 *
 * Invariants:
 * - A host that parses as an IP address (net.isIP) becomes an iPAddress SAN, anything else a dNSName SAN; clients
 *   match IP literals only against iPAddress SANs (RFC 6125 §6.2.1), so an IP is never put in a dNSName.
 * - Names are normalized before use: DNS names lower-cased without a trailing dot, IPv6 without brackets or zone id
 *   and in canonical form, so the same host never appears twice and the coverage check compares like with like.
 * - A DNS name must be a syntactically valid host name (LDH labels, no wildcard); anything else is rejected.
 * - The unspecified addresses (0.0.0.0, ::) mean "every interface" to a listener, not a host a client can name:
 *   they are dropped.
 * - Every server certificate also covers `localhost`, `127.0.0.1` and `::1`.
 * - Coverage is checked against SANs only, never the subject CN (RFC 6125 §6.4.4 for names that have SANs).
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { ValidationError } from '../errors/index.js';
import type { JsonGeneralNames } from './x509.js';

/** One normalized host: an IP address or a DNS name. */
export interface CertificateHost {
  readonly type: 'ip' | 'dns';
  readonly value: string;
}

/** Hosts every server certificate covers, besides the ones asked for. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const UNSPECIFIED_ADDRESSES = new Set(['0.0.0.0', '::']);
const DNS_LABEL = '(?!-)[a-z0-9-]{1,63}(?<!-)';
const DNS_NAME = new RegExp(`^(?=.{1,253}$)${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

/**
 * Normalizes a host as given in configuration (`example.com`, `10.0.0.1`, `[::1]`, `fe80::1%eth0`).
 * Returns `undefined` for an unspecified address (0.0.0.0, ::).
 * @throws ValidationError (ERR_VALIDATION) when the host is neither an IP address nor a valid DNS name.
 */
export function normalizeHost(host: string): CertificateHost | undefined {
  let value = host.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone >= 0 && isIP(value) === 6) value = value.slice(0, zone);
  const family = isIP(value);
  if (family !== 0) {
    // The WHATWG URL serializer gives the canonical text of an address (RFC 5952 for IPv6).
    const canonical = new URL(family === 6 ? `https://[${value}]/` : `https://${value}/`).hostname.replace(/^\[|\]$/g, '');
    return UNSPECIFIED_ADDRESSES.has(canonical) ? undefined : { type: 'ip', value: canonical };
  }
  const name = value.toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME.test(name)) throw new ValidationError(`Not a valid host name or IP address for a TLS certificate: ${JSON.stringify(host)}`);
  return { type: 'dns', value: name };
}

/**
 * The hosts a server certificate for `hosts` covers: the given hosts in order, then the loopback hosts,
 * normalized and without duplicates.
 * @throws ValidationError (ERR_VALIDATION) when a host is invalid (see {@link normalizeHost}).
 */
export function serverCertificateHosts(hosts: readonly string[]): CertificateHost[] {
  const seen = new Set<string>();
  const result: CertificateHost[] = [];
  for (const host of [...hosts, ...LOOPBACK_HOSTS]) {
    const normalized = normalizeHost(host);
    if (!normalized) continue;
    const key = `${normalized.type}:${normalized.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(normalized);
  }
  return result;
}

/** The subjectAltName entries for `hosts`, in the JSON form @peculiar/x509 takes. */
export function subjectAltNames(hosts: readonly CertificateHost[]): JsonGeneralNames {
  return hosts.map((host) => ({ type: host.type, value: host.value }));
}

/** Whether `certificate`'s SANs cover every one of `hosts` (exact names: no wildcard, no subject CN fallback). */
export function certificateCoversHosts(certificate: X509Certificate, hosts: readonly CertificateHost[]): boolean {
  return hosts.every((host) =>
    host.type === 'ip'
      ? certificate.checkIP(host.value) !== undefined
      : certificate.checkHost(host.value, { subject: 'never', wildcards: false }) !== undefined,
  );
}
