import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../../../identity/identity-service.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';

/** Access keys, bearer tokens and client-certificate mappings of principals (administrators). */
export function credentialRoutes(app: FastifyInstance, identity: IdentityService): void {
  const { accessKeys, tokens, certificates } = identity;
  const nameOf = (request: { params: unknown }) => (request.params as { name: string }).name;
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id;
  const nameParams = SCHEMAS.nameParams;
  const idParams = SCHEMAS.idParams;

  app.post('/v1/principals/:name/access-keys', operation('CreateAccessKey', { params: nameParams, body: SCHEMAS.createAccessKey }), handle(async (ctx, request, reply) => {
    const body = (request.body ?? {}) as { expiresInDays?: number };
    const accessKey = await accessKeys.create(ctx, nameOf(request), body.expiresInDays === undefined ? {} : { expiresInDays: body.expiresInDays });
    reply.code(201);
    return { accessKey };
  }));
  app.get('/v1/principals/:name/access-keys', operation('ListAccessKeys', { params: nameParams }), handle(async (ctx, request) => ({
    accessKeys: await accessKeys.list(ctx, nameOf(request)),
  })));
  app.patch('/v1/access-keys/:id', operation('UpdateAccessKey', { params: idParams, body: SCHEMAS.updateAccessKey }), handle(async (ctx, request) => ({
    accessKey: await accessKeys.setStatus(ctx, idOf(request), (request.body as { status: 'Active' | 'Inactive' }).status),
  })));
  app.delete('/v1/access-keys/:id', operation('DeleteAccessKey', { params: idParams }), handle(async (ctx, request, reply) => {
    await accessKeys.delete(ctx, idOf(request));
    return reply.code(204).send();
  }));

  app.post('/v1/principals/:name/tokens', operation('CreateToken', { params: nameParams, body: SCHEMAS.createToken }), handle(async (ctx, request, reply) => {
    const body = (request.body ?? {}) as { ttlSeconds?: number };
    const token = await tokens.create(ctx, nameOf(request), body.ttlSeconds === undefined ? {} : { ttlSeconds: body.ttlSeconds });
    reply.code(201);
    return { token };
  }));
  app.get('/v1/principals/:name/tokens', operation('ListTokens', { params: nameParams }), handle(async (ctx, request) => ({
    tokens: await tokens.list(ctx, nameOf(request)),
  })));
  app.delete('/v1/tokens/:id', operation('RevokeToken', { params: idParams }), handle(async (ctx, request, reply) => {
    await tokens.revoke(ctx, idOf(request));
    return reply.code(204).send();
  }));

  app.post('/v1/principals/:name/certificates', operation('MapClientCertificate', { params: nameParams, body: SCHEMAS.mapCertificate }), handle(async (ctx, request, reply) => {
    const certificate = await certificates.map(ctx, nameOf(request), (request.body as { certificatePem: string }).certificatePem);
    reply.code(201);
    return { certificate };
  }));
  app.get('/v1/principals/:name/certificates', operation('ListClientCertificates', { params: nameParams }), handle(async (ctx, request) => ({
    certificates: await certificates.list(ctx, nameOf(request)),
  })));
  app.delete('/v1/certificates/:id', operation('UnmapClientCertificate', { params: idParams }), handle(async (ctx, request, reply) => {
    await certificates.unmap(ctx, idOf(request));
    return reply.code(204).send();
  }));
}
