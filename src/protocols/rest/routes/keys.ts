import type { FastifyInstance } from 'fastify';
import type { KeyService } from '../../../core/key-service.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';
import { keyView } from '../wire.js';
import { queryInteger } from '../../../http/query.js';

type KeyParams = { Params: { keyId: string } };

/** Key lifecycle and rotation routes under /v1/keys. */
export function keyRoutes(app: FastifyInstance, service: KeyService): void {
  const { keys, rotation } = service;
  const params = SCHEMAS.keyParams;

  app.post<{ Body: { description?: string; keySpec?: string; keyUsage?: string; tags?: Record<string, string>; rotationPeriodInDays?: number; automaticRotation?: boolean } }>(
    '/v1/keys',
    operation('CreateKey', { body: SCHEMAS.createKey }),
    handle(async (ctx, request, reply) => {
      const b = (request.body ?? {}) as { description?: string; keySpec?: string; keyUsage?: string; tags?: Record<string, string>; rotationPeriodInDays?: number; automaticRotation?: boolean };
      const key = await keys.create(ctx, {
        ...(b.description === undefined ? {} : { description: b.description }),
        ...(b.keySpec === undefined ? {} : { keySpec: b.keySpec }),
        ...(b.keyUsage === undefined ? {} : { keyUsage: b.keyUsage }),
        ...(b.tags === undefined ? {} : { tags: b.tags }),
        ...(b.automaticRotation === false ? { rotationPeriodDays: null } : b.rotationPeriodInDays === undefined ? {} : { rotationPeriodDays: b.rotationPeriodInDays }),
      });
      reply.code(201);
      return { key: keyView(key) };
    }),
  );

  app.get('/v1/keys', operation('ListKeys', { querystring: SCHEMAS.listQuery }), handle(async (ctx, request) => {
    const q = request.query as { limit?: string; marker?: string };
    const page = await keys.list(ctx, { limit: queryInteger(q.limit), ...(q.marker ? { marker: q.marker } : {}) });
    return { keys: page.items.map(keyView), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));

  app.get<KeyParams>('/v1/keys/:keyId', operation('DescribeKey', { params }), handle(async (ctx, request) => ({
    key: keyView(await keys.describe(ctx, (request.params as { keyId: string }).keyId)),
  })));

  app.patch<KeyParams>('/v1/keys/:keyId', operation('UpdateKeyDescription', { params, body: SCHEMAS.updateKey }), handle(async (ctx, request) => ({
    key: keyView(await keys.updateDescription(ctx, (request.params as { keyId: string }).keyId, (request.body as { description: string }).description)),
  })));

  const action = (path: string, name: string, run: (ctx: Parameters<typeof keys.enable>[0], keyId: string, body: Record<string, unknown>) => ReturnType<typeof keys.enable>, body?: object) =>
    app.post<KeyParams>(`/v1/keys/:keyId/${path}`, operation(name, { params, ...(body ? { body } : {}) }), handle(async (ctx, request) => ({
      key: keyView(await run(ctx, (request.params as { keyId: string }).keyId, (request.body ?? {}) as Record<string, unknown>)),
    })));

  action('enable', 'EnableKey', (ctx, id) => keys.enable(ctx, id));
  action('disable', 'DisableKey', (ctx, id) => keys.disable(ctx, id));
  action('rotate', 'RotateKeyOnDemand', (ctx, id) => rotation.rotateOnDemand(ctx, id));
  action('cancel-deletion', 'CancelKeyDeletion', (ctx, id) => keys.cancelDeletion(ctx, id));
  action('schedule-deletion', 'ScheduleKeyDeletion', (ctx, id, b) => keys.scheduleDeletion(ctx, id, b.pendingWindowInDays as number | undefined), SCHEMAS.scheduleDeletion);
  action('tags', 'TagResource', (ctx, id, b) => keys.tag(ctx, id, b.tags as Record<string, string>), SCHEMAS.tags);
  action('untag', 'UntagResource', (ctx, id, b) => keys.untag(ctx, id, b.tagKeys as string[]), SCHEMAS.untag);

  app.put<KeyParams>('/v1/keys/:keyId/rotation', operation('EnableKeyRotation', { params, body: SCHEMAS.setRotation }), handle(async (ctx, request) => {
    const { keyId } = request.params as { keyId: string };
    const b = request.body as { enabled: boolean; periodInDays?: number };
    const key = b.enabled ? await rotation.enableRotation(ctx, keyId, b.periodInDays) : await rotation.disableRotation(ctx, keyId);
    return { key: keyView(key) };
  }));

  app.get<KeyParams>('/v1/keys/:keyId/rotations', operation('ListKeyRotations', { params }), handle(async (ctx, request) => {
    const entries = await rotation.listRotations(ctx, (request.params as { keyId: string }).keyId);
    return {
      rotations: entries.map((r) => ({ version: r.version, keyMaterialId: r.keyMaterialId, rotationType: r.rotationType, rotatedAt: r.rotatedAt.toISOString() })),
    };
  }));
}
