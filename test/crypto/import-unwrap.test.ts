import { constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBytes, aesKeyWrapPadUnwrap, isWrappingAlgorithm, unwrapImportedMaterial } from '../../src/crypto/index.js';
import { hex, loadWycheproof } from './wycheproof.js';

const KWP_IV = Buffer.from('A65959A6', 'hex');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const wrappingKey = SecretBytes.copyOf(privateKey.export({ type: 'pkcs8', format: 'der' }));
const oaep = (hash: string, data: Uint8Array) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data);
const kwp = (kek: Uint8Array, data: Uint8Array) => {
  const c = createCipheriv('id-aes256-wrap-pad', kek, KWP_IV);
  return Buffer.concat([c.update(data), c.final()]);
};

describe('AES key wrap with padding (RFC 5649)', () => {
  it('passes the Wycheproof 256-bit vectors: valid unwrap to the message, invalid fail with one error', () => {
    const file = loadWycheproof('aes_kwp_test.json');
    let valid = 0;
    let invalid = 0;
    for (const group of file.testGroups.filter((g) => g.keySize === 256)) {
      for (const t of group.tests) {
        if (t.result === 'valid') {
          expect(aesKeyWrapPadUnwrap(hex(t, 'key'), hex(t, 'ct')).reveal()).toEqual(hex(t, 'msg'));
          valid++;
        } else if (t.result === 'invalid') {
          expect(() => aesKeyWrapPadUnwrap(hex(t, 'key'), hex(t, 'ct'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CIPHERTEXT' }));
          invalid++;
        }
      }
    }
    expect(valid).toBeGreaterThan(20);
    expect(invalid).toBeGreaterThan(20);
    expect(() => aesKeyWrapPadUnwrap(Buffer.alloc(16), Buffer.alloc(24))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CIPHERTEXT' }));
  });
});

describe('unwrapImportedMaterial', () => {
  const material = randomBytes(32);

  it('unwraps RSAES_OAEP_SHA_1/256 and RSA_AES_KEY_WRAP_SHA_1/256 as AWS clients wrap them', () => {
    expect(unwrapImportedMaterial('RSAES_OAEP_SHA_256', wrappingKey, oaep('sha256', material)).reveal()).toEqual(material);
    expect(unwrapImportedMaterial('RSAES_OAEP_SHA_1', wrappingKey, oaep('sha1', material)).reveal()).toEqual(material);
    const big = randomBytes(1217); // e.g. an RSA private key: too long for OAEP alone
    for (const [alg, hash] of [['RSA_AES_KEY_WRAP_SHA_256', 'sha256'], ['RSA_AES_KEY_WRAP_SHA_1', 'sha1']] as const) {
      const aesKey = randomBytes(32);
      const wrapped = Buffer.concat([oaep(hash, aesKey), kwp(aesKey, big)]);
      expect(unwrapImportedMaterial(alg, wrappingKey, wrapped).reveal()).toEqual(big);
    }
    expect(isWrappingAlgorithm('RSA_AES_KEY_WRAP_SHA_256')).toBe(true);
    expect(isWrappingAlgorithm('RSAES_PKCS1_V1_5')).toBe(false);
  });

  it('fails with the one error for a wrong hash, a tampered or truncated blob, or an unknown algorithm', () => {
    const aesKey = randomBytes(32);
    const wrapped = Buffer.concat([oaep('sha256', aesKey), kwp(aesKey, material)]);
    const bad: Array<[string, Uint8Array]> = [
      ['RSAES_OAEP_SHA_1', oaep('sha256', material)],
      ['RSA_AES_KEY_WRAP_SHA_1', wrapped],
      ['RSA_AES_KEY_WRAP_SHA_256', wrapped.subarray(0, 256)],
      ['RSA_AES_KEY_WRAP_SHA_256', Buffer.concat([wrapped.subarray(0, 300), Buffer.from([wrapped[300]! ^ 1]), wrapped.subarray(301)])],
      ['NOPE', wrapped],
    ];
    for (const [alg, blob] of bad) {
      expect(() => unwrapImportedMaterial(alg as 'RSAES_OAEP_SHA_1', wrappingKey, blob)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CIPHERTEXT' }));
    }
  });
});
