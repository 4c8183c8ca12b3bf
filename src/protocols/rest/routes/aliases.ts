import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';
import { aliasView } from '../wire.js';
import { queryInteger } from '../../../http/query.js';

/** Alias routes. An alias name travels in the path URL-encoded or plain: /v1/aliases/alias/payments. */
export function aliasRoutes(app: FastifyInstance, service: KeyService): void {
  const { aliases } = service;
  const params = SCHEMAS.aliasParams;
  const nameOf = (request: { params: unknown }) => (request.params as { '*': string })['*'];

  app.get('/v1/aliases', operation('ListAliases', { querystring: SCHEMAS.listQuery }), handle(async (ctx, request) => {
    const q = request.query as { keyId?: string; limit?: string; marker?: string };
    const page = await aliases.list(ctx, { limit: queryInteger(q.limit), ...(q.keyId ? { keyId: q.keyId } : {}), ...(q.marker ? { marker: q.marker } : {}) });
    return { aliases: page.items.map(aliasView), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));

  app.post('/v1/aliases', operation('CreateAlias', { body: SCHEMAS.createAlias }), handle(async (ctx, request, reply) => {
    const b = request.body as { aliasName: string; keyId: string };
    const alias = await aliases.create(ctx, b.aliasName, b.keyId);
    reply.code(201);
    return { alias: aliasView(alias) };
  }));

  app.put('/v1/aliases/*', operation('UpdateAlias', { params, body: SCHEMAS.updateAlias }), handle(async (ctx, request) => ({
    alias: aliasView(await aliases.update(ctx, nameOf(request), (request.body as { keyId: string }).keyId)),
  })));

  app.delete('/v1/aliases/*', operation('DeleteAlias', { params }), handle(async (ctx, request, reply) => {
    await aliases.delete(ctx, nameOf(request));
    return reply.code(204).send();
  }));
}
