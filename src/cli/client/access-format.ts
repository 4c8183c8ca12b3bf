/**
 * Human output of the access-control commands: identity policies, built-in roles, dual-control approval requests
 * and the server status. Single-line values go through format.ts's blocks and tables (made printable); policy
 * documents keep their lines but lose every other control character ({@link printableText}).
 */
import type { ApprovalView, PolicyView, RoleView, StatusResponse } from './api-types.js';
import { formatKeyValue, formatTable, printableText, truncate } from './format.js';

const DESCRIPTION_COLUMN = 48;
const SUMMARY_COLUMN = 60;

/** A document's text as printed: control characters made visible, ending with exactly one newline. */
export function documentText(document: string): string {
  return `${printableText(document).replace(/\n+$/, '')}\n`;
}

/** The `policy list` table: NAME, DESCRIPTION, UPDATED. */
export function formatPolicyTable(policies: readonly PolicyView[]): string {
  if (policies.length === 0) return 'No policies.\n';
  return formatTable(
    ['NAME', 'DESCRIPTION', 'UPDATED'],
    policies.map((p) => [p.name, p.description ? truncate(p.description, DESCRIPTION_COLUMN) : '-', p.updatedAt]),
  );
}

/** One policy: its metadata as a block, then a blank line and its document. */
export function formatPolicyDetails(p: PolicyView): string {
  const block = formatKeyValue([
    ['Name', p.name],
    ['ARN', p.arn],
    ['Description', p.description || '-'],
    ['Created', p.createdAt],
    ['Updated', p.updatedAt],
  ]);
  return `${block}\n${documentText(p.document)}`;
}

/** The `role list` table: NAME, DESCRIPTION. */
export function formatRoleTable(roles: readonly RoleView[]): string {
  if (roles.length === 0) return 'No roles.\n';
  return formatTable(['NAME', 'DESCRIPTION'], roles.map((r) => [r.name, r.description || '-']));
}

/** One role: name and description, then a blank line and its policy document. */
export function formatRoleDetails(r: RoleView): string {
  return `${formatKeyValue([['Name', r.name], ['Description', r.description || '-']])}\n${documentText(r.document)}`;
}

/** An approval request's summary as `k=v, ...` (sorted; values that are not strings as JSON), or "-". */
export function summaryText(summary: unknown): string {
  if (typeof summary === 'string') return summary || '-';
  if (typeof summary !== 'object' || summary === null) return '-';
  return (
    Object.entries(summary as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ') || '-'
  );
}

/** The `approval list` table: ID, STATUS, OPERATION, REQUESTED BY, EXPIRES, SUMMARY. */
export function formatApprovalTable(approvals: readonly ApprovalView[]): string {
  if (approvals.length === 0) return 'No approval requests.\n';
  return formatTable(
    ['ID', 'STATUS', 'OPERATION', 'REQUESTED BY', 'EXPIRES', 'SUMMARY'],
    approvals.map((a) => [a.id, a.status, a.operation, a.requestedBy, a.expiresAt, truncate(summaryText(a.summary), SUMMARY_COLUMN)]),
  );
}

/** One approval request as a `Label: value` block (decision and consumption only once they happened). */
export function formatApprovalDetails(a: ApprovalView): string {
  const entries: Array<[string, string]> = [
    ['ID', a.id],
    ['Status', a.status],
    ['Operation', a.operation],
    ['Resource', a.resource ?? '-'],
    ['Summary', summaryText(a.summary)],
    ['Requested by', a.requestedBy],
    ['Created', a.createdAt],
    ['Expires', a.expiresAt],
  ];
  if (a.decidedBy) entries.push(['Decided by', a.decidedBy]);
  if (a.decidedAt) entries.push(['Decided', a.decidedAt]);
  if (a.consumedAt) entries.push(['Consumed', a.consumedAt]);
  return formatKeyValue(entries);
}

/** "3 operations", "1 operation", "2 misses", "1 miss". */
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "on (2 operations: A, B)" or "off". */
export function dualControlText(dc: StatusResponse['dualControl'] | undefined): string {
  if (!dc?.enabled) return 'off';
  const ops = dc.operations ?? [];
  return `on (${count(ops.length, 'operation', 'operations')}${ops.length ? `: ${ops.join(', ')}` : ''})`;
}

/** "12/10000 entries, hit rate 98.5% (1234 hits, 19 misses)"; the rate is "-" before the first lookup. */
export function keyCacheText(c: StatusResponse['keyCache'] | undefined): string {
  if (!c) return '-';
  const rate = typeof c.hitRate === 'number' ? `${(c.hitRate * 100).toFixed(1)}%` : '-';
  return `${c.entries}/${c.maxEntries} entries, hit rate ${rate} (${count(c.hits, 'hit', 'hits')}, ${count(c.misses, 'miss', 'misses')})`;
}

/** The `status` block, one line per field. */
export function formatStatus(s: StatusResponse): string {
  return formatKeyValue([
    ['Status', String(s.status)],
    ['Version', String(s.version)],
    ['Storage', String(s.storage)],
    ['Root of trust', `${s.rootOfTrust}${s.root?.available === false ? ' (unavailable)' : ''}`],
    ['Audit', String(s.audit)],
    ['Sealed', s.root === undefined ? '-' : s.root.sealed ? 'yes' : 'no'],
    ['Key cache', keyCacheText(s.keyCache)],
    ['Certificate', s.certificate ? `${s.certificate.source}, valid until ${s.certificate.notAfter}${s.certificate.renewAt ? `, renewed at ${s.certificate.renewAt}` : ''}` : '-'],
    ['Dual control', dualControlText(s.dualControl)],
    ...(s.dualControl?.enabled && typeof s.dualControl.approvalTtlSeconds === 'number'
      ? ([['Approval TTL', `${s.dualControl.approvalTtlSeconds} s`]] as const)
      : []),
  ]);
}
