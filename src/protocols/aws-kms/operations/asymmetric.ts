/** Signing, MAC and key agreement operations: Sign, Verify, GetPublicKey, GenerateMac, VerifyMac, DeriveSharedSecret. */
import { LIMITS } from '../../../core/limits.js';
import { UnsupportedError } from '../../../errors/index.js';
import { operation } from '../operation.js';
import { GRANT_TOKENS, KEY_ID, blob, optional, required, str } from '../shapes.js';
import type { MessageType } from '../../../crypto/index.js';

const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256',
  'ED25519_SHA_512', 'ED25519_PH_SHA_512',
] as const;
const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
const MESSAGE = blob(LIMITS.plaintextBytes.min, LIMITS.plaintextBytes.max);
const SIGNATURE = blob(1, 6144);

type SignInput = { KeyId: string; Message: Buffer; MessageType?: string; SigningAlgorithm: string };
const SIGN_INPUT = {
  KeyId: required(KEY_ID),
  Message: required(MESSAGE),
  MessageType: optional(str({ values: ['RAW', 'DIGEST', 'EXTERNAL_MU'] })),
  SigningAlgorithm: required(str({ values: SIGNING_ALGORITHMS })),
  GrantTokens: optional(GRANT_TOKENS),
};

const signRequest = (i: SignInput) => {
  if (i.MessageType === 'EXTERNAL_MU') throw new UnsupportedError('MessageType EXTERNAL_MU is for ML-DSA keys, which are not supported.');
  return { keyId: i.KeyId, message: i.Message, messageType: (i.MessageType ?? 'RAW') as MessageType, signingAlgorithm: i.SigningAlgorithm };
};

type MacInput = { KeyId: string; Message: Buffer; MacAlgorithm: string };
const MAC_INPUT = {
  KeyId: required(KEY_ID),
  Message: required(MESSAGE),
  MacAlgorithm: required(str({ values: MAC_ALGORITHMS })),
  GrantTokens: optional(GRANT_TOKENS),
};

export const ASYMMETRIC_OPERATIONS = {
  Sign: operation<SignInput>(SIGN_INPUT, async (service, ctx, i) => {
    const r = await service.signing.sign(ctx, signRequest(i));
    return { KeyId: r.keyArn, Signature: r.signature.toString('base64'), SigningAlgorithm: r.signingAlgorithm };
  }),

  Verify: operation<SignInput & { Signature: Buffer }>({ ...SIGN_INPUT, Signature: required(SIGNATURE) }, async (service, ctx, i) => {
    const r = await service.signing.verify(ctx, { ...signRequest(i), signature: i.Signature });
    return { KeyId: r.keyArn, SignatureValid: true, SigningAlgorithm: r.signingAlgorithm };
  }),

  GetPublicKey: operation<{ KeyId: string }>({ KeyId: required(KEY_ID), GrantTokens: optional(GRANT_TOKENS) }, async (service, ctx, i) => {
    const r = await service.signing.getPublicKey(ctx, i.KeyId);
    return {
      KeyId: r.keyArn,
      PublicKey: r.publicKey.toString('base64'),
      CustomerMasterKeySpec: r.key.keySpec,
      KeySpec: r.key.keySpec,
      KeyUsage: r.key.keyUsage,
      ...(r.algorithms.encryptionAlgorithms ? { EncryptionAlgorithms: r.algorithms.encryptionAlgorithms } : {}),
      ...(r.algorithms.signingAlgorithms ? { SigningAlgorithms: r.algorithms.signingAlgorithms } : {}),
      ...(r.algorithms.keyAgreementAlgorithms ? { KeyAgreementAlgorithms: r.algorithms.keyAgreementAlgorithms } : {}),
    };
  }),

  GenerateMac: operation<MacInput>(MAC_INPUT, async (service, ctx, i) => {
    const r = await service.mac.generateMac(ctx, { keyId: i.KeyId, message: i.Message, macAlgorithm: i.MacAlgorithm });
    return { Mac: r.mac.toString('base64'), MacAlgorithm: r.macAlgorithm, KeyId: r.keyArn };
  }),

  VerifyMac: operation<MacInput & { Mac: Buffer }>({ ...MAC_INPUT, Mac: required(blob(1, 6144)) }, async (service, ctx, i) => {
    const r = await service.mac.verifyMac(ctx, { keyId: i.KeyId, message: i.Message, macAlgorithm: i.MacAlgorithm, mac: i.Mac });
    return { KeyId: r.keyArn, MacValid: true, MacAlgorithm: r.macAlgorithm };
  }),

  DeriveSharedSecret: operation<{ KeyId: string; KeyAgreementAlgorithm: string; PublicKey: Buffer }>(
    {
      KeyId: required(KEY_ID),
      KeyAgreementAlgorithm: required(str({ values: ['ECDH'] })),
      PublicKey: required(blob(1, 8192)),
      GrantTokens: optional(GRANT_TOKENS),
    },
    async (service, ctx, i) => {
      const r = await service.sharedSecrets.derive(ctx, { keyId: i.KeyId, keyAgreementAlgorithm: i.KeyAgreementAlgorithm, publicKey: i.PublicKey });
      try {
        return { KeyId: r.keyArn, SharedSecret: r.sharedSecret.toString('base64'), KeyAgreementAlgorithm: r.keyAgreementAlgorithm, KeyOrigin: 'AWS_KMS' };
      } finally {
        r.sharedSecret.fill(0);
      }
    },
  ),
};
