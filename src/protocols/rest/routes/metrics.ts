/**
 * Prometheus metrics over the native API: `GET /v1/metrics` answers the text exposition format. Authenticated and
 * authorized like every native route (`datadefender:GetMetrics`; administrators and security analysts), audited as
 * a read, and served while sealed (the seal is one of the metrics).
 */
import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { handle, operation } from '../rest-context.js';

/** This process's metrics, or every worker's under `server --workers N`. @throws DependencyError (workers unreachable) */
export type ScrapeMetrics = () => Promise<{ contentType: string; text: string }>;

export function metricsRoutes(app: FastifyInstance, service: KeyService, scrape: ScrapeMetrics): void {
  app.get('/v1/metrics', operation('GetMetrics'), handle(async (ctx, _request, reply) => {
    const metrics = await service.run(ctx, 'GetMetrics', { readOnly: true, whileSealed: true, action: 'datadefender:GetMetrics' }, async (op) => {
      await op.authorize(null);
      return scrape();
    });
    return reply.type(metrics.contentType).send(metrics.text);
  }));
}
