import { describe, expect, it } from 'vitest';
import { packRows, unpackRows } from '../../src/adapters/storage/sqlite/row-packing.js';

describe('audit row packing for the SQLite writer thread', () => {
  const columns = ['a', 'b', 'c'] as const;

  it('round-trips strings with separators, quotes, non-ASCII and surrogate pairs, numbers and nulls', () => {
    const rows = [
      { a: 's3:n', b: 12345678901234, c: null },
      { a: '', b: -0.5, c: '{"k":"v:1","ü":"😀"}' },
      { a: 'n', b: 0, c: 'd1:7s0:' },
    ];
    expect(unpackRows(packRows(rows, columns), 3)).toEqual(rows.map((r) => columns.map((c) => r[c])));
  });

  it('packs nothing to nothing and keeps the column order given', () => {
    expect(unpackRows(packRows([], columns), 3)).toEqual([]);
    const row = { a: 'x', b: 1, c: 'z' };
    expect(unpackRows(packRows([row], ['c', 'a'] as const), 2)).toEqual([['z', 'x']]);
  });

  it('refuses malformed input instead of guessing', () => {
    for (const bad of ['x', 's5:ab', 's:ab', 'd2:1', 'nn', 's1:a'.repeat(2)]) {
      expect(() => unpackRows(bad, 3), bad).toThrow('malformed packed audit rows');
    }
  });
});
