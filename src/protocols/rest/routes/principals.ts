import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../../../identity/identity-service.js';
import { principalView } from '../../../identity/principals.js';
import type { RequestContext } from '../../../core/request-context.js';
import type { PrincipalRecord } from '../../../ports/storage.js';
import { queryInteger } from '../../../http/query.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';

type Params = { name: string; role?: string; policy?: string };
type PrincipalAction = (ctx: RequestContext, params: Params, body: Record<string, any>) => Promise<PrincipalRecord>;

/** Principals, their roles, attached policies and tags, under /v1/principals (administrators). */
export function principalRoutes(app: FastifyInstance, identity: IdentityService): void {
  const { principals } = identity;
  const paramsOf = (request: { params: unknown }) => request.params as Params;

  app.post('/v1/principals', operation('CreatePrincipal', { body: SCHEMAS.createPrincipal }), handle(async (ctx, request, reply) => {
    const principal = await principals.create(ctx, request.body as Parameters<typeof principals.create>[1]);
    reply.code(201);
    return { principal: principalView(principal) };
  }));

  app.get('/v1/principals', operation('ListPrincipals', { querystring: SCHEMAS.pageQuery }), handle(async (ctx, request) => {
    const q = request.query as { limit?: string; marker?: string };
    const page = await principals.list(ctx, { limit: queryInteger(q.limit), ...(q.marker ? { marker: q.marker } : {}) });
    return { principals: page.items.map(principalView), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));

  app.get('/v1/principals/:name', operation('GetPrincipal', { params: SCHEMAS.nameParams }), handle(async (ctx, request) => ({
    principal: principalView(await principals.get(ctx, paramsOf(request).name)),
  })));

  app.delete('/v1/principals/:name', operation('DeletePrincipal', { params: SCHEMAS.nameParams }), handle(async (ctx, request, reply) => {
    await principals.delete(ctx, paramsOf(request).name);
    return reply.code(204).send();
  }));

  const action = (method: 'post' | 'put' | 'delete', path: string, name: string, params: object, run: PrincipalAction, body?: object) =>
    app[method](`/v1/principals/:name${path}`, operation(name, { params, ...(body ? { body } : {}) }), handle(async (ctx, request) => ({
      principal: principalView(await run(ctx, paramsOf(request), (request.body ?? {}) as Record<string, any>)),
    })));

  action('post', '/enable', 'EnablePrincipal', SCHEMAS.nameParams, (ctx, p) => principals.setDisabled(ctx, p.name, false));
  action('post', '/disable', 'DisablePrincipal', SCHEMAS.nameParams, (ctx, p) => principals.setDisabled(ctx, p.name, true));
  action('post', '/tags', 'UpdatePrincipal', SCHEMAS.nameParams, (ctx, p, b) => principals.tag(ctx, p.name, b.tags), SCHEMAS.principalTags);
  action('post', '/untag', 'UpdatePrincipal', SCHEMAS.nameParams, (ctx, p, b) => principals.tag(ctx, p.name, {}, b.tagKeys), SCHEMAS.untag);
  action('put', '/roles/:role', 'AddPrincipalRole', SCHEMAS.principalRoleParams, (ctx, p) => principals.addRole(ctx, p.name, p.role!));
  action('delete', '/roles/:role', 'RemovePrincipalRole', SCHEMAS.principalRoleParams, (ctx, p) => principals.removeRole(ctx, p.name, p.role!));
  action('put', '/policies/:policy', 'AttachPrincipalPolicy', SCHEMAS.principalPolicyParams, (ctx, p) => principals.attachPolicy(ctx, p.name, p.policy!));
  action('delete', '/policies/:policy', 'DetachPrincipalPolicy', SCHEMAS.principalPolicyParams, (ctx, p) => principals.detachPolicy(ctx, p.name, p.policy!));
}
