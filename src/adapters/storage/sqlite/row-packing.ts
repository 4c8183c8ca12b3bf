/**
 * Audit rows handed to the SQLite writer thread as one packed string per batch instead of a structured clone of
 * arrays: building the string is a few concatenations per value (V8 ropes, flattened once when posted), where a
 * structured clone of ~20 values per event cost the serving thread ~10 µs per event (profiled; README "Audit trail").
 * Format: each value is `n` (null), `d<len>:<digits>` (a finite number) or `s<len>:<text>` (a string); lengths are
 * in UTF-16 code units, so any text — separators, quotes, non-ASCII — round-trips exactly.
 * Invariant: `unpackRows(packRows(rows, columns), columns.length)` gives each row's values in column order. `unpackRows` is
 * self-contained (no imports, no closure): the writer thread evaluates its source text.
 */
export type PackedValue = string | number | null;

/** The values of `columns` of each row, in order, packed. */
export function packRows<K extends string>(rows: readonly Readonly<Record<K, PackedValue>>[], columns: readonly K[]): string {
  let out = '';
  for (const row of rows) {
    for (const column of columns) {
      const v = row[column];
      if (v === null) out += 'n';
      else if (typeof v === 'number') {
        const digits = String(v);
        out += `d${digits.length}:${digits}`;
      } else out += `s${v.length}:${v}`;
    }
  }
  return out;
}

export function unpackRows(text: string, width: number): PackedValue[][] {
  const rows: PackedValue[][] = [];
  let row: PackedValue[] = [];
  let i = 0;
  while (i < text.length) {
    const tag = text[i];
    let value: PackedValue = null;
    if (tag === 'n') i += 1;
    else {
      const colon = text.indexOf(':', i);
      const length = Number(text.slice(i + 1, colon));
      if ((tag !== 's' && tag !== 'd') || colon < 0 || !Number.isSafeInteger(length) || colon + 1 + length > text.length) {
        throw new Error('malformed packed audit rows');
      }
      const raw = text.slice(colon + 1, colon + 1 + length);
      value = tag === 's' ? raw : Number(raw);
      i = colon + 1 + length;
    }
    row.push(value);
    if (row.length === width) {
      rows.push(row);
      row = [];
    }
  }
  if (row.length !== 0) throw new Error('malformed packed audit rows');
  return rows;
}
