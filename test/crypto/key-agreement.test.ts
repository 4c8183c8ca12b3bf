import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, it, expect } from 'vitest';
import {
  ecdhSharedSecret,
  generateKeyPair,
  isKeyAgreementSpec,
  SecretBytes,
  type KeyAgreementSpec,
  type KeyPair,
} from '../../src/crypto/index.js';
import { ValidationError } from '../../src/errors/index.js';

const SPECS: ReadonlyArray<readonly [KeyAgreementSpec, string, number]> = [
  ['ECC_NIST_P256', 'prime256v1', 32],
  ['ECC_NIST_P384', 'secp384r1', 48],
  ['ECC_NIST_P521', 'secp521r1', 66],
];

describe.each(SPECS)('ecdhSharedSecret with %s', (spec, curve, fieldBytes) => {
  let ours: KeyPair;
  beforeAll(async () => {
    ours = await generateKeyPair(spec);
  });

  it("equals the peer's own computation, as a field-size SecretBytes x coordinate", () => {
    for (let i = 0; i < 3; i++) {
      const peer = generateKeyPairSync('ec', { namedCurve: curve });
      const secret = ecdhSharedSecret(spec, ours.privateKey, peer.publicKey.export({ type: 'spki', format: 'der' }));
      expect(secret).toBeInstanceOf(SecretBytes);
      expect(secret).toHaveLength(fieldBytes);
      const theirs = diffieHellman({ privateKey: peer.privateKey, publicKey: createPublicKey({ key: ours.publicKey, format: 'der', type: 'spki' }) });
      expect(secret.reveal()).toEqual(theirs);
    }
  });

  it('is symmetric between two of our keys', async () => {
    const other = await generateKeyPair(spec);
    expect(ecdhSharedSecret(spec, ours.privateKey, other.publicKey).reveal()).toEqual(
      ecdhSharedSecret(spec, other.privateKey, ours.publicKey).reveal(),
    );
  });

  it('refuses peer keys of another curve or type, points off the curve and garbage with ValidationError', () => {
    const others = [
      generateKeyPairSync('ec', { namedCurve: curve === 'prime256v1' ? 'secp384r1' : 'prime256v1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('x25519').publicKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    ].map((k) => k.export({ type: 'spki', format: 'der' }));
    const offCurve = Buffer.from(generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'der' }));
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] as number) ^ 0x01;
    for (const peer of [...others, offCurve, Buffer.alloc(0), Buffer.from('3000', 'hex')]) {
      expect(() => ecdhSharedSecret(spec, ours.privateKey, peer)).toThrow(ValidationError);
    }
  });

  it('refuses our key when it is not of the spec', () => {
    const wrong = SecretBytes.adopt(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'der' }));
    const peer = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => ecdhSharedSecret(spec, wrong, peer)).toThrow(ValidationError);
    const priv = createPrivateKey({ key: ours.privateKey.reveal(), format: 'der', type: 'pkcs8' });
    expect(priv.asymmetricKeyDetails?.namedCurve).toBe(curve);
  });
});

describe('key agreement specs', () => {
  it('allows the NIST curves only', async () => {
    for (const [spec] of SPECS) expect(isKeyAgreementSpec(spec)).toBe(true);
    for (const s of ['ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519', 'RSA_2048', 'SM2', '', undefined]) {
      expect(isKeyAgreementSpec(s)).toBe(false);
    }
    const k1 = await generateKeyPair('ECC_SECG_P256K1');
    expect(() => ecdhSharedSecret('ECC_SECG_P256K1' as KeyAgreementSpec, k1.privateKey, k1.publicKey)).toThrow(
      new ValidationError('The key spec must be one of ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 for key agreement.'),
    );
  });
});
