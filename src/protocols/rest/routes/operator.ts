import type { FastifyInstance } from 'fastify';
import type { RootOperations } from '../../../core/root-operations.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';

/**
 * Root-of-trust operations under /v1/operator. Status and unseal answer without credentials (a sealed server's
 * credentials cannot be checked against anything); seal and rekey need an administrator.
 */
export function operatorRoutes(app: FastifyInstance, operations: RootOperations): void {
  const open = (name: string, schema: object = {}) => ({ ...operation(name, schema), config: { operation: name, public: true } });

  app.get('/v1/operator/status', open('GetSealStatus'), async () => ({ root: operations.status() }));

  app.post('/v1/operator/unseal', open('UnsealRoot', { body: SCHEMAS.unseal }), handle(async (ctx, request) => {
    const body = request.body as { share?: string; nonce?: string; reset?: boolean };
    const root = body.reset === true ? await operations.resetUnseal(ctx) : await operations.unseal(ctx, body.share ?? '', body.nonce);
    return { root };
  }));

  app.post('/v1/operator/seal', operation('SealRoot'), handle(async (ctx) => ({ root: await operations.seal(ctx) })));

  app.post('/v1/operator/rekey', operation('RekeyRoot', { body: SCHEMAS.rekey }), handle(async (ctx, request) => {
    const body = request.body as { shares: string[]; newShares: number; newThreshold: number };
    return { shares: await operations.rekey(ctx, body.shares, { shares: body.newShares, threshold: body.newThreshold }) };
  }));
}
