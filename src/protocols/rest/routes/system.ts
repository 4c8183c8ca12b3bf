import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';
import { queryInteger } from '../../../http/query.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  storage: string;
  rootOfTrust: string;
  audit: 'ok' | 'unavailable';
}

/** Health (public), caller identity, and the audit trail. */
export function systemRoutes(app: FastifyInstance, service: KeyService, health: () => HealthReport): void {
  app.get('/v1/health', { config: { public: true } }, async (_request, reply) => {
    const report = health();
    reply.code(report.status === 'ok' ? 200 : 503);
    return report;
  });

  app.get('/v1/whoami', operation('GetCallerIdentity'), handle(async (ctx) =>
    service.run(ctx, 'GetCallerIdentity', { readOnly: true }, async (op) => {
      op.authorize(null);
      return { principal: { arn: ctx.caller.arn, roles: ctx.caller.roles, credential: ctx.caller.credential } };
    }),
  ));

  app.get('/v1/audit/events', operation('LookupEvents', { querystring: SCHEMAS.auditQuery }), handle(async (ctx, request) => {
    const q = request.query as { after?: string; limit?: string };
    const events = await service.auditTrail.read(ctx, { afterSequence: queryInteger(q.after) ?? 0, limit: Math.min(queryInteger(q.limit) ?? 100, 1000) });
    return { events };
  }));
}
