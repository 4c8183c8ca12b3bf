import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../../../identity/identity-service.js';
import { queryInteger } from '../../../http/query.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';

/** Identity policies under /v1/policies and the built-in roles under /v1/roles. */
export function policyRoutes(app: FastifyInstance, identity: IdentityService): void {
  const { policies } = identity;
  const nameOf = (request: { params: unknown }) => (request.params as { name: string }).name;

  app.post('/v1/policies', operation('CreatePolicy', { body: SCHEMAS.createPolicy }), handle(async (ctx, request, reply) => {
    const policy = await policies.create(ctx, request.body as { name: string; document: string; description?: string });
    reply.code(201);
    return { policy };
  }));
  app.get('/v1/policies', operation('ListPolicies', { querystring: SCHEMAS.pageQuery }), handle(async (ctx, request) => {
    const q = request.query as { limit?: string; marker?: string };
    const page = await policies.list(ctx, { limit: queryInteger(q.limit), ...(q.marker ? { marker: q.marker } : {}) });
    return { policies: page.items, ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));
  app.get('/v1/policies/:name', operation('GetPolicy', { params: SCHEMAS.nameParams }), handle(async (ctx, request) => ({
    policy: await policies.get(ctx, nameOf(request)),
  })));
  app.put('/v1/policies/:name', operation('UpdatePolicy', { params: SCHEMAS.nameParams, body: SCHEMAS.updatePolicy }), handle(async (ctx, request) => ({
    policy: await policies.update(ctx, { name: nameOf(request), ...(request.body as { document: string; description?: string }) }),
  })));
  app.delete('/v1/policies/:name', operation('DeletePolicy', { params: SCHEMAS.nameParams }), handle(async (ctx, request, reply) => {
    await policies.delete(ctx, nameOf(request));
    return reply.code(204).send();
  }));

  app.get('/v1/roles', operation('ListRoles'), handle(async (ctx) => ({ roles: await policies.listRoles(ctx) })));
  app.get('/v1/roles/:name', operation('GetRole', { params: SCHEMAS.nameParams }), handle(async (ctx, request) => ({
    role: await policies.getRole(ctx, nameOf(request)),
  })));
}
