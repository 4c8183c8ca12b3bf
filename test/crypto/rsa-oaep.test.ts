import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { beforeAll, describe, it, expect } from 'vitest';
import {
  generateKeyPair,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  rsaOaepMaxPlaintext,
  SecretBytes,
  type KeyPair,
  type RsaOaepAlgorithm,
} from '../../src/crypto/index.js';
import { InvalidCiphertextError, ValidationError } from '../../src/errors/index.js';
import { hex, loadWycheproof } from './wycheproof.js';

const FILES: ReadonlyArray<readonly [RsaOaepAlgorithm, string, number]> = [
  // [algorithm, file, vectors with an empty label (AWS never sets one)]
  ['RSAES_OAEP_SHA_1', 'rsa_oaep_2048_sha1_mgf1sha1_test.json', 29],
  ['RSAES_OAEP_SHA_256', 'rsa_oaep_2048_sha256_mgf1sha256_test.json', 29],
];

describe.each(FILES)('%s against Wycheproof %s (decrypt)', (algorithm, name, emptyLabelCount) => {
  const file = loadWycheproof(name);
  const all = file.testGroups.flatMap((g) => {
    expect(g.type).toBe('RsaesOaepDecrypt');
    const key = SecretBytes.copyOf(Buffer.from(String(g.privateKeyPkcs8), 'hex'));
    return g.tests.map((t) => [t.tcId, t, key] as const);
  });
  // AWS KMS uses no OAEP label: tests with a non-empty label do not apply and are skipped explicitly.
  const applicable = all.filter(([, t]) => t.label === '');

  it(`runs the ${emptyLabelCount} vectors with an empty label (of ${file.numberOfTests})`, () => {
    expect(all.length).toBe(file.numberOfTests);
    expect(applicable.length).toBe(emptyLabelCount);
    expect(applicable.filter(([, t]) => t.result === 'valid').length).toBe(10);
    expect(applicable.filter(([, t]) => t.result === 'invalid').length).toBe(19);
  });

  it.each(applicable)('tcId %i', (_id, t, key) => {
    const ct = hex(t, 'ct');
    if (t.result === 'valid') {
      expect(rsaOaepDecrypt(algorithm, key, ct)).toEqual(hex(t, 'msg'));
    } else {
      expect(() => rsaOaepDecrypt(algorithm, key, ct)).toThrow(InvalidCiphertextError);
    }
  });

  it('fails with InvalidCiphertextError under the other hash', () => {
    const other: RsaOaepAlgorithm = algorithm === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1';
    const [, t, key] = applicable[0] as (typeof applicable)[number];
    expect(() => rsaOaepDecrypt(other, key, hex(t, 'ct'))).toThrow(InvalidCiphertextError);
  });
});

describe('rsaOaepMaxPlaintext', () => {
  it('gives the AWS limits', () => {
    expect(rsaOaepMaxPlaintext(2048, 'RSAES_OAEP_SHA_1')).toBe(214);
    expect(rsaOaepMaxPlaintext(2048, 'RSAES_OAEP_SHA_256')).toBe(190);
    expect(rsaOaepMaxPlaintext(3072, 'RSAES_OAEP_SHA_1')).toBe(342);
    expect(rsaOaepMaxPlaintext(3072, 'RSAES_OAEP_SHA_256')).toBe(318);
    expect(rsaOaepMaxPlaintext(4096, 'RSAES_OAEP_SHA_1')).toBe(470);
    expect(rsaOaepMaxPlaintext(4096, 'RSAES_OAEP_SHA_256')).toBe(446);
  });

  it('refuses other sizes and algorithms', () => {
    for (const bits of [1024, 2047, 8192, 0, Number.NaN]) {
      expect(() => rsaOaepMaxPlaintext(bits, 'RSAES_OAEP_SHA_1')).toThrow(ValidationError);
    }
    for (const alg of ['RSAES_PKCS1_V1_5', 'SYMMETRIC_DEFAULT', 'toString', '']) {
      expect(() => rsaOaepMaxPlaintext(2048, alg as RsaOaepAlgorithm)).toThrow(ValidationError);
    }
  });
});

describe('rsaOaepEncrypt / rsaOaepDecrypt', () => {
  const ALGS: readonly RsaOaepAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
  const pairs: Record<'RSA_2048' | 'RSA_3072', KeyPair> = {} as never;
  beforeAll(async () => {
    [pairs.RSA_2048, pairs.RSA_3072] = await Promise.all([generateKeyPair('RSA_2048'), generateKeyPair('RSA_3072')]);
  });

  it.each(ALGS)('%s round-trips at the size limit and refuses one byte more (2048 and 3072 bits)', (alg) => {
    for (const [spec, bits] of [['RSA_2048', 2048], ['RSA_3072', 3072]] as const) {
      const { publicKey, privateKey } = pairs[spec];
      const max = rsaOaepMaxPlaintext(bits, alg);
      for (const n of [0, 1, max]) {
        const pt = Buffer.alloc(n, 0x5a);
        const ct = rsaOaepEncrypt(alg, publicKey, pt);
        expect(ct).toHaveLength(bits / 8);
        expect(rsaOaepDecrypt(alg, privateKey, ct)).toEqual(pt);
      }
      expect(() => rsaOaepEncrypt(alg, publicKey, Buffer.alloc(max + 1))).toThrow(
        new ValidationError(`Algorithm ${alg} and key spec ${spec} cannot encrypt data larger than ${max} bytes.`),
      );
    }
  });

  it.each(ALGS)('%s interoperates with plain node:crypto in both directions, MGF1 with the same hash', (alg) => {
    const oaepHash = alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
    const { publicKey, privateKey } = pairs.RSA_2048;
    const pub = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    const priv = createPrivateKey({ key: privateKey.reveal(), format: 'der', type: 'pkcs8' });
    const pt = Buffer.from('data key material');
    const padding = constants.RSA_PKCS1_OAEP_PADDING;
    expect(privateDecrypt({ key: priv, padding, oaepHash }, rsaOaepEncrypt(alg, publicKey, pt))).toEqual(pt);
    expect(rsaOaepDecrypt(alg, privateKey, publicEncrypt({ key: pub, padding, oaepHash }, pt))).toEqual(pt);
  });

  it('randomises ciphertexts', () => {
    const { publicKey } = pairs.RSA_2048;
    const pt = Buffer.from('same');
    expect(rsaOaepEncrypt('RSAES_OAEP_SHA_256', publicKey, pt)).not.toEqual(rsaOaepEncrypt('RSAES_OAEP_SHA_256', publicKey, pt));
  });

  it('decrypt fails with InvalidCiphertextError on a wrong key, every tampered byte region and wrong lengths', () => {
    const { publicKey, privateKey } = pairs.RSA_2048;
    const ct = rsaOaepEncrypt('RSAES_OAEP_SHA_256', publicKey, Buffer.from('secret'));
    expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_256', pairs.RSA_3072.privateKey, ct)).toThrow(InvalidCiphertextError);
    for (const i of [0, 1, 100, 255]) {
      const bad = Buffer.from(ct);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_256', privateKey, bad)).toThrow(InvalidCiphertextError);
    }
    for (const bad of [ct.subarray(1), Buffer.concat([ct, Buffer.alloc(1)]), Buffer.alloc(0), Buffer.alloc(256, 0xff)]) {
      expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_256', privateKey, bad)).toThrow(InvalidCiphertextError);
    }
    expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_256', privateKey, 'text' as unknown as Uint8Array)).toThrow(InvalidCiphertextError);
    try {
      rsaOaepDecrypt('RSAES_OAEP_SHA_256', privateKey, ct.subarray(1));
    } catch (err) {
      expect((err as Error).message).toBe('The ciphertext is invalid or does not match the encryption context.');
      expect((err as Error).cause).toBeUndefined();
    }
  });

  it('refuses unknown algorithms and non-RSA or malformed keys with ValidationError', () => {
    const { publicKey, privateKey } = pairs.RSA_2048;
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecPub = ec.publicKey.export({ type: 'spki', format: 'der' });
    const ecPriv = SecretBytes.adopt(ec.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const pt = Buffer.from('x');
    expect(() => rsaOaepEncrypt('RSAES_PKCS1_V1_5' as RsaOaepAlgorithm, publicKey, pt)).toThrow(ValidationError);
    expect(() => rsaOaepDecrypt('RSAES_PKCS1_V1_5' as RsaOaepAlgorithm, privateKey, Buffer.alloc(256))).toThrow(ValidationError);
    expect(() => rsaOaepEncrypt('RSAES_OAEP_SHA_1', ecPub, pt)).toThrow(
      new ValidationError('RSAES_OAEP algorithms are incompatible with key spec ECC_NIST_P256.'),
    );
    expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_1', ecPriv, Buffer.alloc(256))).toThrow(ValidationError);
    expect(() => rsaOaepEncrypt('RSAES_OAEP_SHA_1', Buffer.from('junk'), pt)).toThrow(ValidationError);
    expect(() => rsaOaepDecrypt('RSAES_OAEP_SHA_1', SecretBytes.copyOf(Buffer.from('junk')), Buffer.alloc(256))).toThrow(ValidationError);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => rsaOaepEncrypt('RSAES_OAEP_SHA_1', small, pt)).toThrow(ValidationError);
  });
});
