// Loads Wycheproof vector files from ../shared/test-vectors/wycheproof/ (beside the repository, also in CI).
import { readFileSync } from 'node:fs';

const DIR = new URL('../../../shared/test-vectors/wycheproof/', import.meta.url);

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadWycheproof(name: string): WycheproofFile {
  return JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as WycheproofFile;
}

/** The hex field `name` of a test as bytes. */
export function hex(t: WycheproofTest, name: string): Buffer {
  const v = t[name];
  if (typeof v !== 'string') throw new Error(`tcId ${t.tcId}: field ${name} is not a hex string`);
  return Buffer.from(v, 'hex');
}
