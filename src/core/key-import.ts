/**
 * Imported key material (AWS KMS BYOK: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial) for keys
 * of origin EXTERNAL, which start PendingImport with no material.
 * Invariants:
 * - the import token is self-contained: the wrapping private key, the algorithm and the expiry, wrapped by the root
 *   of trust with AAD naming the key, so a token works only for its key and cannot be forged or edited;
 * - tokens and wrapping keys expire after 24 hours (ExpiredImportTokenException);
 * - imported material must fit the key spec; re-importing must bring the same material (IncorrectKeyMaterialException),
 *   compared in constant time;
 * - deleting imported material removes every version and leaves the key PendingImport: data under it cannot be
 *   decrypted until the same material is imported again;
 * - only material that never expires is accepted (KEY_MATERIAL_DOES_NOT_EXPIRE).
 */
import {
  decodeImportParameters,
  encodeImportParameters,
  generateKeyPair,
  sameKeyMaterial,
  unwrapImportedMaterial,
  type AsymmetricKeySpec,
  type SecretBytes,
  type WrappingAlgorithm,
} from '../crypto/index.js';
import {
  ConflictError,
  ExpiredImportTokenError,
  IncorrectKeyMaterialError,
  InvalidCiphertextError,
  InvalidImportTokenError,
  UnsupportedError,
  ValidationError,
} from '../errors/index.js';
import type { KeyRecord } from '../ports/storage.js';
import { keyArn } from './arn.js';
import type { Operation } from './audited-operation.js';
import { DAY_MS, describeRecord, type KeyContext } from './key-context.js';
import { checkImportedMaterial } from './key-specs.js';
import { assertState } from './key-state-rules.js';
import type { RequestContext } from './request-context.js';

const TOKEN_LIFETIME_MS = DAY_MS;
const tokenAad = (keyId: string) => Buffer.from(`datadefender/import-token/v1/${keyId}`, 'utf8');

export function createKeyImport(kc: KeyContext) {
  const { run, resolver, scope, material, storage, clock, root } = kc;

  const externalKey = async (op: Operation, identifier: string): Promise<KeyRecord> => {
    const key = await resolver.resolve(identifier, { allowAlias: false });
    await op.authorize(key);
    if (key.origin !== 'EXTERNAL') {
      throw new UnsupportedError(`${keyArn(scope, key.id)} origin is ${key.origin} which is not valid for this operation.`);
    }
    return key;
  };

  const openToken = async (key: KeyRecord, token: Uint8Array) => {
    let secret: SecretBytes;
    try {
      secret = await root.unwrap(token, tokenAad(key.id));
    } catch (err) {
      if (err instanceof InvalidCiphertextError) throw new InvalidImportTokenError('The import token is not valid for this key.');
      throw err;
    }
    try {
      return decodeImportParameters(secret);
    } finally {
      secret.destroy();
    }
  };

  return {
    /** A fresh RSA wrapping key and its import token, valid for 24 hours. */
    getParametersForImport(ctx: RequestContext, input: { keyId: string; wrappingAlgorithm: WrappingAlgorithm; wrappingKeySpec: AsymmetricKeySpec }) {
      return run(ctx, 'GetParametersForImport', { readOnly: true }, async (op) => {
        Object.assign(op.details, { wrappingAlgorithm: input.wrappingAlgorithm, wrappingKeySpec: input.wrappingKeySpec });
        const key = await externalKey(op, input.keyId);
        assertState('importMaterial', key.state, keyArn(scope, key.id));
        const pair = await generateKeyPair(input.wrappingKeySpec);
        const validTo = new Date(clock.now().getTime() + TOKEN_LIFETIME_MS);
        const secret = encodeImportParameters({ algorithm: input.wrappingAlgorithm, validTo, wrappingPrivateKey: pair.privateKey });
        try {
          const importToken = Buffer.from(await root.wrap(secret, tokenAad(key.id)));
          return { keyArn: keyArn(scope, key.id), importToken, publicKey: pair.publicKey, parametersValidTo: validTo };
        } finally {
          secret.destroy();
          pair.privateKey.destroy();
        }
      });
    },

    /** @throws InvalidImportTokenError, ExpiredImportTokenError, InvalidCiphertextError, IncorrectKeyMaterialError, ValidationError */
    importKeyMaterial(ctx: RequestContext, input: { keyId: string; importToken: Uint8Array; encryptedKeyMaterial: Uint8Array; expirationModel?: string; validTo?: Date }) {
      return run(ctx, 'ImportKeyMaterial', { readOnly: false }, async (op) => {
        const key = await externalKey(op, input.keyId);
        const arn = keyArn(scope, key.id);
        assertState('importMaterial', key.state, arn);
        if ((input.expirationModel ?? 'KEY_MATERIAL_EXPIRES') === 'KEY_MATERIAL_EXPIRES') {
          if (input.validTo === undefined) throw new ValidationError('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES');
          throw new UnsupportedError('Imported key material that expires is not supported; use ExpirationModel KEY_MATERIAL_DOES_NOT_EXPIRE.');
        }
        if (input.validTo !== undefined) throw new ValidationError('ValidTo is only allowed with ExpirationModel KEY_MATERIAL_EXPIRES.');
        const parameters = await openToken(key, input.importToken);
        try {
          if (parameters.validTo.getTime() <= clock.now().getTime()) throw new ExpiredImportTokenError('The import token has expired.');
          op.details.wrappingAlgorithm = parameters.algorithm;
          const imported = unwrapImportedMaterial(parameters.algorithm, parameters.wrappingPrivateKey, input.encryptedKeyMaterial);
          try {
            checkImportedMaterial(key.keySpec, imported);
            if (key.currentVersion > 0) {
              const same = await material.withMaterial(key.id, 1, (existing) => sameKeyMaterial(existing, imported));
              if (!same) throw new IncorrectKeyMaterialError('The key material does not match the material previously imported into this key.');
              return describeRecord(scope, key);
            }
            await op.beforeChange();
            const version = await material.newVersion(key.id, 1, imported, 'ORIGINAL', clock.now());
            if (!(await storage.importMaterial(version))) throw new ConflictError(`${arn} changed concurrently; retry the request.`);
            return describeRecord(scope, { ...key, currentVersion: 1, state: 'Enabled' });
          } finally {
            imported.destroy();
          }
        } finally {
          parameters.wrappingPrivateKey.destroy();
        }
      });
    },

    /** Crypto-shreds the imported material; the key waits for the same material again (PendingImport). */
    deleteImportedKeyMaterial(ctx: RequestContext, identifier: string) {
      return run(ctx, 'DeleteImportedKeyMaterial', { readOnly: false }, async (op) => {
        const key = await externalKey(op, identifier);
        if (key.state === 'PendingImport') return;
        assertState('manage', key.state, keyArn(scope, key.id));
        await op.beforeChange();
        if (!(await storage.deleteMaterial(key.id))) throw new ConflictError(`${keyArn(scope, key.id)} changed concurrently; retry the request.`);
        material.forget(key.id);
      });
    },
  };
}

export type KeyImport = ReturnType<typeof createKeyImport>;
