import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { RESPONSES, SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';
import { fromBase64 } from '../wire.js';

type Context = Record<string, string> | undefined;

/** Cryptographic routes: encrypt, decrypt, re-encrypt, data keys, random. */
export function cryptoRoutes(app: FastifyInstance, service: KeyService): void {
  const { crypto } = service;

  app.post('/v1/encrypt', operation('Encrypt', { body: SCHEMAS.encrypt, response: { 200: RESPONSES.encrypt } }), handle(async (ctx, request) => {
    const b = request.body as { keyId: string; plaintext: string; encryptionContext?: Context };
    const r = await crypto.encrypt(ctx, { keyId: b.keyId, plaintext: fromBase64('plaintext', b.plaintext), encryptionContext: b.encryptionContext });
    return { ciphertext: r.ciphertext.toString('base64'), keyId: r.keyArn, keyVersion: r.keyVersion, keyMaterialId: r.keyMaterialId };
  }));

  app.post('/v1/decrypt', operation('Decrypt', { body: SCHEMAS.decrypt, response: { 200: RESPONSES.decrypt } }), handle(async (ctx, request) => {
    const b = request.body as { ciphertext: string; encryptionContext?: Context; keyId?: string };
    const r = await crypto.decrypt(ctx, {
      ciphertext: fromBase64('ciphertext', b.ciphertext),
      encryptionContext: b.encryptionContext,
      ...(b.keyId === undefined ? {} : { keyId: b.keyId }),
    });
    return { plaintext: r.plaintext.toString('base64'), keyId: r.keyArn, keyVersion: r.keyVersion, keyMaterialId: r.keyMaterialId };
  }));

  app.post('/v1/re-encrypt', operation('ReEncrypt', { body: SCHEMAS.reEncrypt }), handle(async (ctx, request) => {
    const b = request.body as {
      ciphertext: string;
      sourceEncryptionContext?: Context;
      sourceKeyId?: string;
      destinationKeyId: string;
      destinationEncryptionContext?: Context;
    };
    const r = await crypto.reEncrypt(ctx, {
      ciphertext: fromBase64('ciphertext', b.ciphertext),
      sourceEncryptionContext: b.sourceEncryptionContext,
      ...(b.sourceKeyId === undefined ? {} : { sourceKeyId: b.sourceKeyId }),
      destinationKeyId: b.destinationKeyId,
      destinationEncryptionContext: b.destinationEncryptionContext,
    });
    return { ciphertext: r.ciphertext.toString('base64'), sourceKeyId: r.sourceKeyArn, keyId: r.keyArn, keyVersion: r.keyVersion };
  }));

  app.post('/v1/data-keys', operation('GenerateDataKey', { body: SCHEMAS.dataKey }), handle(async (ctx, request) => {
    const b = request.body as { keyId: string; keySpec?: string; numberOfBytes?: number; encryptionContext?: Context; includePlaintext?: boolean };
    const r = await crypto.generateDataKey(ctx, {
      keyId: b.keyId,
      ...(b.keySpec === undefined ? {} : { keySpec: b.keySpec }),
      ...(b.numberOfBytes === undefined ? {} : { numberOfBytes: b.numberOfBytes }),
      encryptionContext: b.encryptionContext,
      includePlaintext: b.includePlaintext ?? true,
    });
    return {
      ciphertext: r.ciphertext.toString('base64'),
      ...(r.plaintext ? { plaintext: r.plaintext.toString('base64') } : {}),
      keyId: r.keyArn,
      keyVersion: r.keyVersion,
    };
  }));

  app.post('/v1/random', operation('GenerateRandom', { body: SCHEMAS.random }), handle(async (ctx, request) => {
    const b = request.body as { numberOfBytes: number };
    return { random: (await crypto.generateRandom(ctx, b.numberOfBytes)).toString('base64') };
  }));
}
