/**
 * Human output of the client commands: aligned tables for lists and `Label: value` blocks for one object.
 * `--json` bypasses all of this and prints the API's answer (see {@link formatJson}).
 *
 * Invariant: every server-supplied string goes through {@link printable} before it is shown, so a key description
 * or tag cannot smuggle terminal escape sequences or fake extra lines into the output.
 */
import type { DataKeyResponse, KeyView, WhoamiResponse } from './api-types.js';

/** Replaces C0/C1 control characters (ESC, CR, LF, TAB, DEL, CSI, ...) with `?`. */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Like {@link printable} but keeps line feeds and tabs, for multi-line text such as a policy document
 * (CR LF becomes LF; a lone CR, which could overwrite a line on the terminal, becomes `?`).
 */
export function printableText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** Shortens `value` to at most `max` characters, ending with "…" when cut. */
export function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

const width = (s: string) => Array.from(s).length;
const padEnd = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

/**
 * An aligned table: columns separated by two spaces, no trailing spaces, one line per row, ending with "\n".
 * Cells are made printable; `headers` and `rows` must have the same number of columns.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(width(h), ...clean.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) => cells.map((c, i) => padEnd(c, widths[i] ?? 0)).join('  ').trimEnd();
  return `${[line(headers), ...clean.map(line)].join('\n')}\n`;
}

/** `Label: value` lines with the values aligned, ending with "\n". Values are made printable. */
export function formatKeyValue(entries: ReadonlyArray<readonly [label: string, value: string]>): string {
  if (entries.length === 0) return '';
  const labelWidth = Math.max(...entries.map(([label]) => width(label))) + 1;
  return `${entries.map(([label, value]) => `${padEnd(`${label}:`, labelWidth)} ${printable(value)}`.trimEnd()).join('\n')}\n`;
}

/** The script-facing output: the API's JSON, pretty-printed with two spaces, ending with "\n". */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** "every 365 days" or "off". */
export function rotationSummary(key: Pick<KeyView, 'rotation'>): string {
  if (!key.rotation?.enabled) return 'off';
  return key.rotation.periodInDays === null ? 'on' : `every ${key.rotation.periodInDays} days`;
}

const DESCRIPTION_COLUMN = 48;

/** The `key list` table: KEY ID, STATE, DESCRIPTION, VERSION, ROTATION. */
export function formatKeyTable(keys: readonly KeyView[]): string {
  if (keys.length === 0) return 'No keys.\n';
  return formatTable(
    ['KEY ID', 'STATE', 'DESCRIPTION', 'VERSION', 'ROTATION'],
    keys.map((k) => [
      k.keyId,
      k.state,
      k.description ? truncate(printable(k.description), DESCRIPTION_COLUMN) : '-',
      String(k.currentVersion),
      rotationSummary(k),
    ]),
  );
}

/** `a=1, b=2` sorted by key, or "-". */
export const tagsText = (tags: Record<string, string> | undefined) =>
  Object.entries(tags ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || '-';

/** One key as a `Label: value` block. */
export function formatKeyDetails(key: KeyView): string {
  const entries: Array<[string, string]> = [
    ['Key ID', key.keyId],
    ['ARN', key.arn],
    ['Description', key.description || '-'],
    ['State', key.state],
    ['Key spec', key.keySpec],
    ['Key usage', key.keyUsage],
    ['Created', key.createdAt],
    ['Current version', String(key.currentVersion)],
  ];
  if (key.currentKeyMaterialId) entries.push(['Key material', key.currentKeyMaterialId]);
  entries.push(['Rotation', rotationSummary(key)]);
  if (key.rotation?.nextRotationAt) entries.push(['Next rotation', key.rotation.nextRotationAt]);
  if (key.deletionAt) entries.push(['Deletion date', key.deletionAt]);
  entries.push(['Tags', tagsText(key.tags)]);
  return formatKeyValue(entries);
}

/** The `generate-data-key` block (the plaintext data key is shown only when the server returned it). */
export function formatDataKey(response: DataKeyResponse): string {
  return formatKeyValue([
    ['Key ID', response.keyId],
    ...(response.keyVersion === undefined ? [] : ([['Key version', String(response.keyVersion)]] as const)),
    ['Ciphertext', response.ciphertext],
    ...(response.plaintext === undefined ? [] : ([['Plaintext', response.plaintext]] as const)),
  ]);
}

/** `a, b` or "-". */
export const listText = (items: readonly string[] | undefined) => (items ?? []).join(', ') || '-';

/** The `whoami` block: name, ARN, roles, identity policies, tags and the credential used. */
export function formatWhoami(response: WhoamiResponse): string {
  const p = response.principal;
  return formatKeyValue([
    ...(p.name ? ([['Name', p.name]] as const) : []),
    ['ARN', p.arn],
    ['Roles', listText(p.roles)],
    ['Policies', listText(p.policies)],
    ['Tags', tagsText(p.tags)],
    ...(p.credential ? ([['Credential', p.credential]] as const) : []),
  ]);
}
