/**
 * DeriveSharedSecret: ECDH between a KEY_AGREEMENT key (P-256, P-384, P-521) and a peer's public key
 * (AWS KMS, KeyAgreementAlgorithm ECDH). The raw shared secret goes back to the caller, as AWS returns it.
 */
import { sharedSecretForCaller, type KeyAgreementSpec } from '../crypto/index.js';
import type { KeyContext } from './key-context.js';
import { algorithmsOf, specOf } from './key-specs.js';
import { checkAlgorithm, keyForUse } from './key-use.js';
import type { RequestContext } from './request-context.js';

export function createSharedSecrets(kc: KeyContext) {
  const { run, material } = kc;
  return {
    /** @throws InvalidKeyUsageError, ValidationError (peer key of another curve), KeyDisabledError, InvalidStateError */
    derive(ctx: RequestContext, input: { keyId: string; keyAgreementAlgorithm: string; publicKey: Uint8Array }) {
      return run(ctx, 'DeriveSharedSecret', { readOnly: true }, async (op) => {
        op.details.keyAgreementAlgorithm = input.keyAgreementAlgorithm;
        const { key, arn } = await keyForUse(kc, op, input.keyId, 'KEY_AGREEMENT', 'DeriveSharedSecret');
        checkAlgorithm(key, input.keyAgreementAlgorithm, algorithmsOf(key.keySpec, key.keyUsage).keyAgreementAlgorithms);
        const spec = specOf(key.keySpec).material;
        const curve = (spec.kind === 'key-pair' ? spec.spec : key.keySpec) as KeyAgreementSpec;
        const secret = await material.withMaterial(key.id, key.currentVersion, (pk) => sharedSecretForCaller(curve, pk, input.publicKey));
        return { sharedSecret: secret, keyArn: arn, keyAgreementAlgorithm: input.keyAgreementAlgorithm };
      });
    },
  };
}

export type SharedSecrets = ReturnType<typeof createSharedSecrets>;
