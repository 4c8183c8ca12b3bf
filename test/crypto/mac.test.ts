import { describe, it, expect } from 'vitest';
import {
  generateMac,
  hmac,
  MAC_ALGORITHMS_LIST,
  macAlgorithm,
  macAlgorithmFor,
  randomSecret,
  verifyMac,
  type MacAlgorithm,
} from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';

/** AWS: MAC sizes 28/32/48/64 bytes; imported material 28-64, 32-64, 48-128, 64-128 bytes (aws-kms-protocol.md §3). */
const AWS = {
  HMAC_SHA_224: { hash: 'sha224', macBytes: 28, keySpec: 'HMAC_224', keyBytes: 28, importKeyBytes: [28, 64] },
  HMAC_SHA_256: { hash: 'sha256', macBytes: 32, keySpec: 'HMAC_256', keyBytes: 32, importKeyBytes: [32, 64] },
  HMAC_SHA_384: { hash: 'sha384', macBytes: 48, keySpec: 'HMAC_384', keyBytes: 48, importKeyBytes: [48, 128] },
  HMAC_SHA_512: { hash: 'sha512', macBytes: 64, keySpec: 'HMAC_512', keyBytes: 64, importKeyBytes: [64, 128] },
} as const;

describe('MAC algorithms', () => {
  it('have one row per AWS MacAlgorithmSpec', () => {
    expect([...MAC_ALGORITHMS_LIST]).toEqual(Object.keys(AWS));
    for (const [alg, row] of Object.entries(AWS)) {
      expect(macAlgorithm(alg as MacAlgorithm)).toEqual(row);
      expect(macAlgorithmFor(row.keySpec)).toBe(alg);
    }
    for (const spec of ['SYMMETRIC_DEFAULT', 'RSA_2048', 'HMAC_128', '']) expect(macAlgorithmFor(spec)).toBeUndefined();
  });

  it.each(Object.entries(AWS))('%s: generateMac is the full HMAC; verifyMac accepts it and nothing else', (name, row) => {
    const alg = name as MacAlgorithm;
    const key = randomSecret(row.keyBytes);
    const m = Buffer.from('message');
    const mac = generateMac(alg, key, m);
    expect(mac).toHaveLength(row.macBytes);
    expect(mac).toEqual(hmac(row.hash, key, m));
    expect(verifyMac(alg, key, m, mac)).toBe(true);
    const flipped = Buffer.from(mac);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(verifyMac(alg, key, m, flipped)).toBe(false);
    expect(verifyMac(alg, key, m, mac.subarray(0, mac.length - 1))).toBe(false);
    expect(verifyMac(alg, key, Buffer.from('messagE'), mac)).toBe(false);
    expect(verifyMac(alg, randomSecret(row.keyBytes), m, mac)).toBe(false);
  });

  it('refuses unknown algorithms with ValidationError', () => {
    for (const alg of ['HMAC_SHA_1', 'HMAC_256', 'toString', '']) {
      expect(() => macAlgorithm(alg as MacAlgorithm)).toThrow(ValidationError);
      expect(() => generateMac(alg as MacAlgorithm, randomSecret(32), Buffer.alloc(0))).toThrow(ValidationError);
      expect(() => verifyMac(alg as MacAlgorithm, randomSecret(32), Buffer.alloc(0), Buffer.alloc(32))).toThrow(ValidationError);
    }
  });
});
