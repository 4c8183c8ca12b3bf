/**
 * HMAC use cases: GenerateMac, VerifyMac (AWS KMS HMAC keys, RFC 2104). The MacAlgorithm must be the one of the
 * key's spec; VerifyMac compares in constant time and answers InvalidMacError (KMSInvalidMacException) on mismatch.
 */
import { generateMac, verifyMac, type MacAlgorithm } from '../crypto/index.js';
import { InvalidMacError } from '../errors/index.js';
import type { Operation } from './audited-operation.js';
import type { KeyContext } from './key-context.js';
import { algorithmsOf } from './key-specs.js';
import { checkAlgorithm, keyForUse } from './key-use.js';
import type { RequestContext } from './request-context.js';

export interface MacInput {
  keyId: string;
  message: Uint8Array;
  macAlgorithm: string;
}

export function createKeyMac(kc: KeyContext) {
  const { run, material } = kc;

  /** The HMAC key for the request, checked for state, usage and algorithm. */
  const macKey = async (op: Operation, input: MacInput, name: string) => {
    Object.assign(op.details, { macAlgorithm: input.macAlgorithm, messageBytes: input.message.length });
    const usable = await keyForUse(kc, op, input.keyId, 'GENERATE_VERIFY_MAC', name);
    checkAlgorithm(usable.key, input.macAlgorithm, algorithmsOf(usable.key.keySpec, usable.key.keyUsage).macAlgorithms);
    return usable;
  };

  return {
    /** @throws InvalidKeyUsageError, KeyDisabledError, InvalidStateError */
    generateMac: (ctx: RequestContext, input: MacInput) =>
      run(ctx, 'GenerateMac', { readOnly: true }, async (op) => {
        const { key, arn } = await macKey(op, input, 'GenerateMac');
        const mac = await material.withMaterial(key.id, key.currentVersion, (secret) => generateMac(input.macAlgorithm as MacAlgorithm, secret, input.message));
        return { mac, keyArn: arn, macAlgorithm: input.macAlgorithm };
      }),

    /** @throws InvalidMacError when the MAC does not match (compared in constant time) */
    verifyMac: (ctx: RequestContext, input: MacInput & { mac: Uint8Array }) =>
      run(ctx, 'VerifyMac', { readOnly: true }, async (op) => {
        const { key, arn } = await macKey(op, input, 'VerifyMac');
        const valid = await material.withMaterial(key.id, key.currentVersion, (secret) => verifyMac(input.macAlgorithm as MacAlgorithm, secret, input.message, input.mac));
        if (!valid) throw new InvalidMacError();
        return { keyArn: arn, macAlgorithm: input.macAlgorithm };
      }),
  };
}

export type KeyMac = ReturnType<typeof createKeyMac>;
