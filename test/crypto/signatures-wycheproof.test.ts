import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { verify, type SigningAlgorithm } from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { hex, loadWycheproof, type WycheproofTest } from './wycheproof.js';

type Case = readonly [number, WycheproofTest, Buffer];

/** Every test of a file with its group's SubjectPublicKeyInfo DER key. */
function cases(name: string, expectedGroupType: string): { cases: Case[]; numberOfTests: number } {
  const file = loadWycheproof(name);
  const all = file.testGroups.flatMap((g) => {
    expect(g.type).toBe(expectedGroupType);
    const der = Buffer.from(String(g.publicKeyDer), 'hex');
    return g.tests.map((t) => [t.tcId, t, der] as const);
  });
  return { cases: all, numberOfTests: file.numberOfTests };
}

/** valid must verify, invalid must not; acceptable may go either way but must not throw. */
function check(t: WycheproofTest, run: () => boolean): void {
  const ok = run();
  if (t.result === 'valid') expect(ok, `tcId ${t.tcId} (${t.comment})`).toBe(true);
  if (t.result === 'invalid') expect(ok, `tcId ${t.tcId} (${t.comment})`).toBe(false);
}

const HASH = { ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512', RSASSA_PSS_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_256: 'sha256' } as const;

const DIGEST_FILES: ReadonlyArray<readonly [keyof typeof HASH, string, string, number]> = [
  ['ECDSA_SHA_256', 'ecdsa_secp256r1_sha256_test.json', 'EcdsaVerify', 484],
  ['ECDSA_SHA_384', 'ecdsa_secp384r1_sha384_test.json', 'EcdsaVerify', 504],
  ['ECDSA_SHA_512', 'ecdsa_secp521r1_sha512_test.json', 'EcdsaVerify', 542],
  ['ECDSA_SHA_256', 'ecdsa_secp256k1_sha256_test.json', 'EcdsaVerify', 476],
  ['RSASSA_PSS_SHA_256', 'rsa_pss_2048_sha256_mgf1_32_test.json', 'RsassaPssVerify', 108],
  ['RSASSA_PKCS1_V1_5_SHA_256', 'rsa_signature_2048_sha256_test.json', 'RsassaPkcs1Verify', 259],
];

describe.each(DIGEST_FILES)('%s against Wycheproof %s (RAW and DIGEST)', (algorithm, name, groupType, count) => {
  const { cases: all, numberOfTests } = cases(name, groupType);

  it(`runs all ${count} vectors of the file`, () => {
    expect(all.length).toBe(numberOfTests);
    expect(all.length).toBe(count);
  });

  it.each(all)('tcId %i', (_id, t, der) => {
    const msg = hex(t, 'msg');
    const sig = hex(t, 'sig');
    check(t, () => verify(algorithm, der, msg, 'RAW', sig));
    const digest = createHash(HASH[algorithm]).update(msg).digest();
    check(t, () => verify(algorithm, der, digest, 'DIGEST', sig));
  });
});

describe('ED25519_SHA_512 against Wycheproof ed25519_test.json (RAW only)', () => {
  const algorithm: SigningAlgorithm = 'ED25519_SHA_512';
  const { cases: all, numberOfTests } = cases('ed25519_test.json', 'EddsaVerify');

  it('runs all 151 vectors of the file', () => {
    expect(all.length).toBe(numberOfTests);
    expect(all.length).toBe(151);
  });

  it.each(all)('tcId %i', (_id, t, der) => {
    check(t, () => verify(algorithm, der, hex(t, 'msg'), 'RAW', hex(t, 'sig')));
  });

  it('refuses DIGEST mode with ValidationError', () => {
    const [, t, der] = all[0] as Case;
    expect(() => verify(algorithm, der, Buffer.alloc(64), 'DIGEST', hex(t, 'sig'))).toThrow(ValidationError);
  });
});
