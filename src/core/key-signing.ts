/**
 * Asymmetric signing use cases: Sign, Verify, GetPublicKey (AWS KMS, aws-kms-protocol.md §3).
 * Invariants: the private key is used only inside crypto/ under the material cache; Verify answers
 * InvalidSignatureError (KMSInvalidSignatureException) for a wrong signature, never `false`; Sign with RAW and
 * Verify with DIGEST of the same message agree (crypto/signatures.ts); audit details name the algorithm and the
 * message type and size, never the message.
 */
import { InvalidSignatureError, UnsupportedError } from '../errors/index.js';
import { publicKeyFromPrivate, sign, verify, type MessageType, type SigningAlgorithm } from '../crypto/index.js';
import type { KeyContext } from './key-context.js';
import { algorithmsOf } from './key-specs.js';
import { checkAlgorithm, isAsymmetric, keyForUse } from './key-use.js';
import { aliasCondition, keyArn } from './arn.js';
import { assertState } from './key-state-rules.js';
import type { RequestContext } from './request-context.js';

export interface SignInput {
  keyId: string;
  message: Uint8Array;
  messageType: MessageType;
  signingAlgorithm: string;
}

export function createKeySigning(kc: KeyContext) {
  const { run, material } = kc;
  const publicKeyOf = (keyId: string, version: number) => material.withMaterial(keyId, version, (pk) => publicKeyFromPrivate(pk));

  return {
    /** @throws InvalidKeyUsageError, ValidationError (digest length), KeyDisabledError, InvalidStateError */
    sign(ctx: RequestContext, input: SignInput): Promise<{ signature: Buffer; keyArn: string; signingAlgorithm: string }> {
      return run(ctx, 'Sign', { readOnly: true }, async (op) => {
        Object.assign(op.details, { signingAlgorithm: input.signingAlgorithm, messageType: input.messageType, messageBytes: input.message.length });
        const { key, arn } = await keyForUse(kc, op, input.keyId, 'SIGN_VERIFY', 'Sign');
        checkAlgorithm(key, input.signingAlgorithm, algorithmsOf(key.keySpec, key.keyUsage).signingAlgorithms);
        const signature = await material.withMaterial(key.id, key.currentVersion, (pk) =>
          sign(input.signingAlgorithm as SigningAlgorithm, pk, input.message, input.messageType),
        );
        return { signature, keyArn: arn, signingAlgorithm: input.signingAlgorithm };
      });
    },

    /** @throws InvalidSignatureError when the signature does not verify */
    verify(ctx: RequestContext, input: SignInput & { signature: Uint8Array }): Promise<{ keyArn: string; signingAlgorithm: string }> {
      return run(ctx, 'Verify', { readOnly: true }, async (op) => {
        Object.assign(op.details, { signingAlgorithm: input.signingAlgorithm, messageType: input.messageType, messageBytes: input.message.length });
        const { key, arn } = await keyForUse(kc, op, input.keyId, 'SIGN_VERIFY', 'Verify');
        checkAlgorithm(key, input.signingAlgorithm, algorithmsOf(key.keySpec, key.keyUsage).signingAlgorithms);
        const publicKey = await publicKeyOf(key.id, key.currentVersion);
        if (!verify(input.signingAlgorithm as SigningAlgorithm, publicKey, input.message, input.messageType, input.signature)) {
          throw new InvalidSignatureError();
        }
        return { keyArn: arn, signingAlgorithm: input.signingAlgorithm };
      });
    },

    /** The SubjectPublicKeyInfo DER of an asymmetric key. @throws UnsupportedError for symmetric and HMAC keys */
    getPublicKey(ctx: RequestContext, identifier: string) {
      return run(ctx, 'GetPublicKey', { readOnly: true }, async (op) => {
        const key = await kc.resolver.resolve(identifier, { allowAlias: true });
        const arn = keyArn(kc.scope, key.id);
        await op.authorize(key, undefined, aliasCondition(identifier));
        assertState('use', key.state, arn);
        if (!isAsymmetric(key)) throw new UnsupportedError(`${arn} is not an asymmetric key; it has no public key.`);
        return { keyArn: arn, publicKey: await publicKeyOf(key.id, key.currentVersion), key, algorithms: algorithmsOf(key.keySpec, key.keyUsage) };
      });
    },
  };
}

export type KeySigning = ReturnType<typeof createKeySigning>;
