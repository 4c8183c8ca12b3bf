// DESIGN §2: never use a caller-supplied nonce. The fixed-IV helper exists for aead.ts and the Wycheproof tests only.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

describe('nonce guard', () => {
  it('only src/crypto/aead.ts imports aead-fixed-iv, and index.ts does not re-export it', () => {
    const importers = (readdirSync(SRC, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /aead-fixed-iv/.test(readFileSync(join(SRC, f), 'utf8').replace(/^\s*\/\/.*$/gm, '')))
      .map((f) => relative(SRC, join(SRC, f)).split('\\').join('/'));
    expect(importers.filter((f) => f !== 'crypto/aead-fixed-iv.ts')).toEqual(['crypto/aead.ts']);
  });
});
