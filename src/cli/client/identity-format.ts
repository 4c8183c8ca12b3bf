/**
 * Human output of the identity commands: principals, access keys, tokens and client certificates.
 * Every server-supplied string goes through format.ts's tables and blocks, which make it printable.
 *
 * Invariant: the secret of a new access key or token appears in exactly one line of exactly one output, the one
 * answering its creation; lists and other blocks have no field that could hold it.
 */
import type { AccessKeyView, CertificateView, CreatedAccessKeyResponse, CreatedTokenResponse, PrincipalView, TokenView } from './api-types.js';
import { formatKeyValue, formatTable, listText, tagsText } from './format.js';

/** The warning printed (on stderr) next to a secret that the server returns only once. */
export const SECRET_WARNING = 'Warning: save the secret now; it is not stored in clear and will not be shown again.\n';

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const expiry = (at: string | null | undefined) => at ?? 'never';

/** The `principal list` table: NAME, KIND, ROLES, DISABLED, ARN. */
export function formatPrincipalTable(principals: readonly PrincipalView[]): string {
  if (principals.length === 0) return 'No principals.\n';
  return formatTable(
    ['NAME', 'KIND', 'ROLES', 'DISABLED', 'ARN'],
    principals.map((p) => [p.name, p.kind, listText(p.roles), yesNo(p.disabled), p.arn]),
  );
}

/** One principal as a `Label: value` block. */
export function formatPrincipalDetails(p: PrincipalView): string {
  return formatKeyValue([
    ['Name', p.name],
    ['Kind', p.kind],
    ['ARN', p.arn],
    ['Roles', listText(p.roles)],
    ['Policies', listText(p.policies)],
    ['Tags', tagsText(p.tags)],
    ['Disabled', yesNo(p.disabled)],
    ['Created', p.createdAt],
    ['Updated', p.updatedAt],
  ]);
}

const accessKeyEntries = (k: AccessKeyView): Array<[string, string]> => [
  ['Access key ID', k.accessKeyId],
  ['Principal', k.principal],
  ['Status', k.status],
  ['Created', k.createdAt],
  ['Expires', expiry(k.expiresAt)],
];

/** One access key (never its secret). */
export function formatAccessKeyDetails(k: AccessKeyView): string {
  return formatKeyValue(accessKeyEntries(k));
}

/** A new access key with its secret, which the server shows only this once. */
export function formatCreatedAccessKey(response: CreatedAccessKeyResponse): string {
  const k = response.accessKey;
  return formatKeyValue([...accessKeyEntries(k), ['Secret access key', k.secretAccessKey]]);
}

/** The `access-key list` table: ACCESS KEY ID, STATUS, CREATED, EXPIRES. */
export function formatAccessKeyTable(keys: readonly AccessKeyView[]): string {
  if (keys.length === 0) return 'No access keys.\n';
  return formatTable(
    ['ACCESS KEY ID', 'STATUS', 'CREATED', 'EXPIRES'],
    keys.map((k) => [k.accessKeyId, k.status, k.createdAt, expiry(k.expiresAt)]),
  );
}

/** A new bearer token with the token itself, which the server shows only this once. */
export function formatCreatedToken(response: CreatedTokenResponse): string {
  const t = response.token;
  return formatKeyValue([
    ['Accessor', t.accessor],
    ['Principal', t.principal],
    ['Created', t.createdAt],
    ['Expires', expiry(t.expiresAt)],
    ['Token', t.token],
  ]);
}

/** The `token list` table: ACCESSOR, CREATED, EXPIRES. */
export function formatTokenTable(tokens: readonly TokenView[]): string {
  if (tokens.length === 0) return 'No tokens.\n';
  return formatTable(['ACCESSOR', 'CREATED', 'EXPIRES'], tokens.map((t) => [t.accessor, t.createdAt, expiry(t.expiresAt)]));
}

/** One client certificate mapping. */
export function formatCertificateDetails(c: CertificateView): string {
  return formatKeyValue([
    ['Fingerprint', c.fingerprint],
    ['Principal', c.principal],
    ['Subject', c.subject],
    ['Not after', c.notAfter],
    ['Mapped', c.createdAt],
  ]);
}

/** The `certificate list` table: FINGERPRINT (SHA-256), SUBJECT, NOT AFTER. */
export function formatCertificateTable(certificates: readonly CertificateView[]): string {
  if (certificates.length === 0) return 'No certificates.\n';
  return formatTable(['FINGERPRINT (SHA-256)', 'SUBJECT', 'NOT AFTER'], certificates.map((c) => [c.fingerprint, c.subject, c.notAfter]));
}
