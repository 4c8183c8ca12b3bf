/** Human output of the CLI: aligned tables and key: value blocks. `--json` bypasses all of this. */

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

export function block(entries: Array<[string, string]>): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n')}\n`;
}

export interface KeyJson {
  keyId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  state: string;
  createdAt: string;
  currentVersion: number;
  rotation: { enabled: boolean; periodInDays: number | null; nextRotationAt: string | null };
  deletionAt: string | null;
  tags: Record<string, string>;
}

const rotationText = (k: KeyJson) => (k.rotation.enabled ? `every ${k.rotation.periodInDays} days` : 'off');

export function keyTable(keys: KeyJson[]): string {
  return table(
    ['KEY ID', 'STATE', 'VERSION', 'ROTATION', 'DESCRIPTION'],
    keys.map((k) => [k.keyId, k.state, String(k.currentVersion), rotationText(k), k.description]),
  );
}

export function keyBlock(k: KeyJson): string {
  return block([
    ['Key ID', k.keyId],
    ['ARN', k.arn],
    ['State', k.state],
    ['Description', k.description],
    ['Key spec', `${k.keySpec} (${k.keyUsage})`],
    ['Created', k.createdAt],
    ['Version', String(k.currentVersion)],
    ['Rotation', rotationText(k) + (k.rotation.nextRotationAt ? `, next ${k.rotation.nextRotationAt}` : '')],
    ...(k.deletionAt ? ([['Deletion', k.deletionAt]] as Array<[string, string]>) : []),
    ['Tags', Object.entries(k.tags).map(([t, v]) => `${t}=${v}`).join(', ') || '-'],
  ]);
}
