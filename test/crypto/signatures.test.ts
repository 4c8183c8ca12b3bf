import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generatePrimeSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { beforeAll, describe, it, expect } from 'vitest';
import {
  ASYMMETRIC_KEY_SPECS,
  generateKeyPair,
  sign,
  SIGNING_ALGORITHMS_LIST,
  signingAlgorithmsFor,
  SecretBytes,
  verify,
  type AsymmetricKeySpec,
  type KeyPair,
  type MessageType,
  type SigningAlgorithm,
} from '../../src/crypto/index.js';
import { pssSignDigest, pssVerifyDigest } from '../../src/crypto/rsa-digest.js';
import { ValidationError } from '../../src/errors/index.js';

/** The hash, digest length and node options of each algorithm, written out independently of the implementation. */
const ALG: Record<SigningAlgorithm, { hash: 'sha256' | 'sha384' | 'sha512'; len: number; pss?: boolean; ed?: boolean }> = {
  RSASSA_PSS_SHA_256: { hash: 'sha256', len: 32, pss: true },
  RSASSA_PSS_SHA_384: { hash: 'sha384', len: 48, pss: true },
  RSASSA_PSS_SHA_512: { hash: 'sha512', len: 64, pss: true },
  RSASSA_PKCS1_V1_5_SHA_256: { hash: 'sha256', len: 32 },
  RSASSA_PKCS1_V1_5_SHA_384: { hash: 'sha384', len: 48 },
  RSASSA_PKCS1_V1_5_SHA_512: { hash: 'sha512', len: 64 },
  ECDSA_SHA_256: { hash: 'sha256', len: 32 },
  ECDSA_SHA_384: { hash: 'sha384', len: 48 },
  ECDSA_SHA_512: { hash: 'sha512', len: 64 },
  ED25519_SHA_512: { hash: 'sha512', len: 64, ed: true },
};

const RSA = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
/** AWS KeyMetadata.SigningAlgorithms per key spec (aws-kms-protocol.md §3). */
const AWS_ALGORITHMS: Record<AsymmetricKeySpec, string[]> = {
  RSA_2048: RSA,
  RSA_3072: RSA,
  RSA_4096: RSA,
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  ECC_SECG_P256K1: ['ECDSA_SHA_256'],
  ECC_NIST_EDWARDS25519: ['ED25519_SHA_512'],
};

const digestOf = (alg: SigningAlgorithm, m: Uint8Array): Buffer => createHash(ALG[alg].hash).update(m).digest();

function nodeOptions(alg: SigningAlgorithm, key: ReturnType<typeof createPublicKey>) {
  const a = ALG[alg];
  return a.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: a.len } : { key };
}

/** An RSA private key whose modulus has exactly `bits` bits (OpenSSL's generator never makes 8j+1-bit moduli). */
function rsaKeyWithModulusBits(bits: number): KeyObject {
  const e = 65537n;
  const b64 = (x: bigint) => Buffer.from(x.toString(16).padStart(Math.ceil(x.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
  const inv = (a: bigint, m: bigint): bigint => {
    let [r0, r1, t0, t1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) [r0, r1, t0, t1] = [r1, r0 % r1, t1, t0 - (r0 / r1) * t1];
    return r0 === 1n ? ((t0 % m) + m) % m : 0n;
  };
  for (;;) {
    const p = generatePrimeSync(Math.ceil(bits / 2), { bigint: true });
    const q = generatePrimeSync(Math.floor(bits / 2), { bigint: true });
    const n = p * q;
    const d = inv(e, (p - 1n) * (q - 1n));
    if (n.toString(2).length !== bits || d === 0n) continue;
    const jwk = { kty: 'RSA', n: b64(n), e: b64(e), d: b64(d), p: b64(p), q: b64(q), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), qi: b64(inv(q, p)) };
    return createPrivateKey({ key: jwk, format: 'jwk' });
  }
}

const pairs = {} as Record<AsymmetricKeySpec, KeyPair>;
beforeAll(async () => {
  const all = await Promise.all(ASYMMETRIC_KEY_SPECS.map((s) => generateKeyPair(s)));
  ASYMMETRIC_KEY_SPECS.forEach((s, i) => (pairs[s] = all[i] as KeyPair));
});

const combos = ASYMMETRIC_KEY_SPECS.flatMap((spec) => AWS_ALGORITHMS[spec].map((alg) => [spec, alg as SigningAlgorithm] as const));
const message = Buffer.from('transfer 100.00 EUR from account 1 to account 2');

describe('signingAlgorithmsFor', () => {
  it('lists the AWS signing algorithms of each key spec', () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) expect(signingAlgorithmsFor(spec)).toEqual(AWS_ALGORITHMS[spec]);
    expect([...SIGNING_ALGORITHMS_LIST].sort()).toEqual(Object.keys(ALG).sort());
  });
});

describe.each(combos)('%s with %s', (spec, alg) => {
  const types: MessageType[] = ALG[alg].ed ? ['RAW'] : ['RAW', 'DIGEST'];

  it.each(types)('signs in %s mode; the signature verifies in RAW and DIGEST mode and with plain node:crypto', (type) => {
    const { privateKey, publicKey } = pairs[spec];
    const digest = digestOf(alg, message);
    const sig = sign(alg, privateKey, type === 'RAW' ? message : digest, type);
    expect(verify(alg, publicKey, message, 'RAW', sig)).toBe(true);
    if (!ALG[alg].ed) expect(verify(alg, publicKey, digest, 'DIGEST', sig)).toBe(true);
    const pub = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    expect(nodeVerify(ALG[alg].ed ? null : ALG[alg].hash, message, nodeOptions(alg, pub), sig)).toBe(true);
    // a different message, or a different key of the same spec, does not verify
    expect(verify(alg, publicKey, Buffer.from('transfer 900.00 EUR'), 'RAW', sig)).toBe(false);
    const otherSpec: AsymmetricKeySpec = spec.startsWith('RSA') ? (spec === 'RSA_2048' ? 'RSA_3072' : 'RSA_2048') : spec;
    if (otherSpec !== spec) expect(verify(alg, pairs[otherSpec].publicKey, message, 'RAW', sig)).toBe(false);
  });

  it('verifies signatures made by plain node:crypto in RAW and DIGEST mode', () => {
    const { privateKey, publicKey } = pairs[spec];
    const priv = createPrivateKey({ key: privateKey.reveal(), format: 'der', type: 'pkcs8' });
    const sig = nodeSign(ALG[alg].ed ? null : ALG[alg].hash, message, nodeOptions(alg, priv));
    expect(verify(alg, publicKey, message, 'RAW', sig)).toBe(true);
    if (!ALG[alg].ed) expect(verify(alg, publicKey, digestOf(alg, message), 'DIGEST', sig)).toBe(true);
  });

  it('returns false for tampered, truncated, extended and empty signatures', () => {
    const { privateKey, publicKey } = pairs[spec];
    for (const type of types) {
      const input = type === 'RAW' ? message : digestOf(alg, message);
      const sig = sign(alg, privateKey, input, type);
      const bad: Buffer[] = [sig.subarray(0, sig.length - 1), Buffer.concat([sig, Buffer.alloc(1)]), Buffer.alloc(0)];
      for (const i of [0, 1, Math.floor(sig.length / 2), sig.length - 1]) {
        const t = Buffer.from(sig);
        t[i] = (t[i] as number) ^ 0x01;
        bad.push(t);
      }
      for (const b of bad) {
        expect(verify(alg, publicKey, input, type, b)).toBe(false);
      }
    }
  });

});

describe('sign and verify: deterministic and randomised schemes', () => {
  it('RSASSA-PKCS1-v1_5 in DIGEST mode gives the same bytes as node in RAW mode (DigestInfo wrapping)', () => {
    for (const alg of ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'] as const) {
      const { privateKey } = pairs.RSA_2048;
      const priv = createPrivateKey({ key: privateKey.reveal(), format: 'der', type: 'pkcs8' });
      const expected = nodeSign(ALG[alg].hash, message, priv);
      expect(sign(alg, privateKey, digestOf(alg, message), 'DIGEST')).toEqual(expected);
      expect(sign(alg, privateKey, message, 'RAW')).toEqual(expected);
    }
  });

  it('PSS and ECDSA are randomised in both modes; Ed25519 is deterministic', () => {
    const m = Buffer.from('m');
    for (const [spec, alg] of [['RSA_2048', 'RSASSA_PSS_SHA_256'], ['ECC_NIST_P256', 'ECDSA_SHA_256']] as const) {
      for (const type of ['RAW', 'DIGEST'] as const) {
        const input = type === 'RAW' ? m : digestOf(alg, m);
        expect(sign(alg, pairs[spec].privateKey, input, type)).not.toEqual(sign(alg, pairs[spec].privateKey, input, type));
      }
    }
    const ed = pairs.ECC_NIST_EDWARDS25519.privateKey;
    expect(sign('ED25519_SHA_512', ed, m, 'RAW')).toEqual(sign('ED25519_SHA_512', ed, m, 'RAW'));
  });

  it('PSS signatures use a salt as long as the digest (node refuses them at another salt length)', () => {
    const { privateKey, publicKey } = pairs.RSA_2048;
    const pub = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    for (const type of ['RAW', 'DIGEST'] as const) {
      const sig = sign('RSASSA_PSS_SHA_384', privateKey, type === 'RAW' ? message : digestOf('RSASSA_PSS_SHA_384', message), type);
      const opts = (saltLength: number) => ({ key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      expect(nodeVerify('sha384', message, opts(48), sig)).toBe(true);
      expect(nodeVerify('sha384', message, opts(32), sig)).toBe(false);
    }
  });

  it('PSS signatures of another salt length, MGF1 hash or modulus framing do not verify', () => {
    const { privateKey, publicKey } = pairs.RSA_2048;
    const priv = createPrivateKey({ key: privateKey.reveal(), format: 'der', type: 'pkcs8' });
    const sig = nodeSign('sha256', message, { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
    expect(verify('RSASSA_PSS_SHA_256', publicKey, message, 'RAW', sig)).toBe(false);
    expect(verify('RSASSA_PSS_SHA_256', publicKey, digestOf('RSASSA_PSS_SHA_256', message), 'DIGEST', sig)).toBe(false);
    // a PKCS#1 v1.5 signature is not a PSS signature, and the other way round
    const pkcs1 = sign('RSASSA_PKCS1_V1_5_SHA_256', privateKey, message, 'RAW');
    expect(verify('RSASSA_PSS_SHA_256', publicKey, digestOf('RSASSA_PSS_SHA_256', message), 'DIGEST', pkcs1)).toBe(false);
    const pss = sign('RSASSA_PSS_SHA_256', privateKey, message, 'RAW');
    expect(verify('RSASSA_PKCS1_V1_5_SHA_256', publicKey, digestOf('RSASSA_PSS_SHA_256', message), 'DIGEST', pss)).toBe(false);
    // the signature value n (not below the modulus) and 0
    const n = createPublicKey({ key: publicKey, format: 'der', type: 'spki' }).export({ format: 'jwk' }).n as string;
    for (const s of [Buffer.from(n, 'base64url'), Buffer.alloc(256)]) {
      expect(verify('RSASSA_PSS_SHA_256', publicKey, digestOf('RSASSA_PSS_SHA_256', message), 'DIGEST', s)).toBe(false);
      expect(verify('RSASSA_PKCS1_V1_5_SHA_256', publicKey, digestOf('RSASSA_PSS_SHA_256', message), 'DIGEST', s)).toBe(false);
    }
  });

  it('PSS works when modBits - 1 is a multiple of 8 (emLen = k - 1) in both modes', () => {
    // a 2049-bit modulus: EM is one byte shorter than the signature (RFC 8017 §8.1.1 step 1, §8.1.2 step 2c)
    const privateKey = rsaKeyWithModulusBits(2049);
    const publicKey = createPublicKey(privateKey);
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2049);
    const m = Buffer.from('odd modulus');
    const d = digestOf('RSASSA_PSS_SHA_256', m);
    const sig = pssSignDigest('sha256', privateKey, d);
    expect(nodeVerify('sha256', m, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
    const theirs = nodeSign('sha256', m, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    expect(pssVerifyDigest('sha256', publicKey, d, theirs)).toBe(true);
    expect(pssVerifyDigest('sha256', publicKey, digestOf('RSASSA_PSS_SHA_256', Buffer.from('x')), theirs)).toBe(false);
    // s^e mod n may need all k bytes, but a valid EM never does: a non-zero first byte is refused
    const n = Buffer.from(publicKey.export({ format: 'jwk' }).n as string, 'base64url');
    const big = Buffer.from(n);
    big[big.length - 1] = (big[big.length - 1] as number) - 1; // n - 1: (n-1)^e = -1 = n - 1 mod n, first byte 0x01
    expect(pssVerifyDigest('sha256', publicKey, d, big)).toBe(false);
  });
});

describe('sign and verify: caller errors', () => {
  it('ED25519_SHA_512 refuses DIGEST mode', () => {
    const { privateKey, publicKey } = pairs.ECC_NIST_EDWARDS25519;
    const want = new ValidationError('The message type DIGEST is not valid for algorithm ED25519_SHA_512.');
    expect(() => sign('ED25519_SHA_512', privateKey, Buffer.alloc(64), 'DIGEST')).toThrow(want);
    expect(() => verify('ED25519_SHA_512', publicKey, Buffer.alloc(64), 'DIGEST', Buffer.alloc(64))).toThrow(want);
  });

  it('refuses keys of specs the algorithm does not allow', () => {
    const cases: Array<[SigningAlgorithm, AsymmetricKeySpec]> = [
      ['ECDSA_SHA_384', 'ECC_NIST_P256'],
      ['ECDSA_SHA_256', 'ECC_NIST_P384'],
      ['ECDSA_SHA_512', 'ECC_SECG_P256K1'],
      ['RSASSA_PSS_SHA_256', 'ECC_NIST_P256'],
      ['ECDSA_SHA_256', 'RSA_2048'],
      ['ED25519_SHA_512', 'ECC_NIST_P256'],
      ['RSASSA_PKCS1_V1_5_SHA_256', 'ECC_NIST_EDWARDS25519'],
    ];
    for (const [alg, spec] of cases) {
      const want = new ValidationError(`Algorithm ${alg} is incompatible with key spec ${spec}.`);
      expect(() => sign(alg, pairs[spec].privateKey, message, 'RAW')).toThrow(want);
      expect(() => verify(alg, pairs[spec].publicKey, message, 'RAW', Buffer.alloc(64))).toThrow(want);
    }
  });

  it('refuses unknown algorithms, message types and malformed keys', () => {
    const { privateKey, publicKey } = pairs.ECC_NIST_P256;
    for (const alg of ['ED25519_PH_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ECDSA_SHA_1', 'toString', '']) {
      expect(() => sign(alg as SigningAlgorithm, privateKey, message, 'RAW')).toThrow(ValidationError);
      expect(() => verify(alg as SigningAlgorithm, publicKey, message, 'RAW', Buffer.alloc(8))).toThrow(ValidationError);
    }
    for (const type of ['EXTERNAL_MU', 'raw', '']) {
      expect(() => sign('ECDSA_SHA_256', privateKey, message, type as MessageType)).toThrow(ValidationError);
      expect(() => verify('ECDSA_SHA_256', publicKey, message, type as MessageType, Buffer.alloc(8))).toThrow(ValidationError);
    }
    expect(() => sign('ECDSA_SHA_256', SecretBytes.copyOf(publicKey), message, 'RAW')).toThrow(ValidationError);
    expect(() => verify('ECDSA_SHA_256', privateKey.reveal(), message, 'RAW', Buffer.alloc(8))).toThrow(ValidationError);
  });
});

describe('DIGEST length', () => {
  it.each(combos.filter(([, alg]) => !ALG[alg].ed))('%s with %s refuses a digest of the wrong length in sign and verify with the AWS message', (spec, alg) => {
    const { privateKey, publicKey } = pairs[spec];
    const want = new ValidationError(`Digest is invalid length for algorithm ${alg}.`);
    for (const n of [0, ALG[alg].len - 1, ALG[alg].len + 1, 20]) {
      expect(() => sign(alg, privateKey, Buffer.alloc(n, 1), 'DIGEST')).toThrow(want);
      expect(() => verify(alg, publicKey, Buffer.alloc(n, 1), 'DIGEST', Buffer.alloc(8))).toThrow(want);
    }
  });
});
