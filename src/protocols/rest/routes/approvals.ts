import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { queryInteger } from '../../../http/query.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';

/** Dual-control approval requests under /v1/approvals. */
export function approvalRoutes(app: FastifyInstance, service: KeyService): void {
  const { approvals } = service;
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id;

  app.get('/v1/approvals', operation('ListApprovals', { querystring: SCHEMAS.approvalQuery }), handle(async (ctx, request) => {
    const q = request.query as { limit?: string; marker?: string; status?: string };
    const page = await approvals.list(ctx, { limit: queryInteger(q.limit), ...(q.marker ? { marker: q.marker } : {}), ...(q.status ? { status: q.status } : {}) });
    return { approvals: page.items, ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));
  app.get('/v1/approvals/:id', operation('GetApproval', { params: SCHEMAS.idParams }), handle(async (ctx, request) => ({
    approval: await approvals.get(ctx, idOf(request)),
  })));
  app.post('/v1/approvals/:id/approve', operation('ApproveRequest', { params: SCHEMAS.idParams }), handle(async (ctx, request) => ({
    approval: await approvals.approve(ctx, idOf(request)),
  })));
  app.post('/v1/approvals/:id/reject', operation('RejectRequest', { params: SCHEMAS.idParams }), handle(async (ctx, request) => ({
    approval: await approvals.reject(ctx, idOf(request)),
  })));
}
