import type { FastifyInstance } from 'fastify';
import type { KeyDescription } from '../../../core/key-context.js';
import type { KeyService } from '../../../core/key-service.js';
import type { RequestContext } from '../../../core/request-context.js';
import { queryInteger } from '../../../http/query.js';
import { SCHEMAS } from '../schemas.js';
import { handle, operation } from '../rest-context.js';
import { keyView } from '../wire.js';

interface CreateKeyBody {
  description?: string;
  keySpec?: string;
  keyUsage?: string;
  tags?: Record<string, string>;
  rotationPeriodInDays?: number;
  automaticRotation?: boolean;
}

type KeyAction = (ctx: RequestContext, keyId: string, body: Record<string, any>) => Promise<KeyDescription>;

/** Key lifecycle and rotation routes under /v1/keys. */
export function keyRoutes(app: FastifyInstance, service: KeyService): void {
  const { keys, rotation } = service;
  const params = SCHEMAS.keyParams;
  const keyIdOf = (request: { params: unknown }) => (request.params as { keyId: string }).keyId;

  app.post('/v1/keys', operation('CreateKey', { body: SCHEMAS.createKey }), handle(async (ctx, request, reply) => {
    const { automaticRotation, rotationPeriodInDays, ...rest } = (request.body ?? {}) as CreateKeyBody;
    const rotationPeriodDays = automaticRotation === false ? null : rotationPeriodInDays;
    const key = await keys.create(ctx, { ...rest, ...(rotationPeriodDays === undefined ? {} : { rotationPeriodDays }) });
    reply.code(201);
    return { key: keyView(key) };
  }));

  app.get('/v1/keys', operation('ListKeys', { querystring: SCHEMAS.listQuery }), handle(async (ctx, request) => {
    const q = request.query as { limit?: string; marker?: string };
    const page = await keys.list(ctx, { limit: queryInteger(q.limit), ...(q.marker ? { marker: q.marker } : {}) });
    return { keys: page.items.map(keyView), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
  }));

  app.get('/v1/keys/:keyId', operation('DescribeKey', { params }), handle(async (ctx, request) => ({
    key: keyView(await keys.describe(ctx, keyIdOf(request))),
  })));

  app.patch('/v1/keys/:keyId', operation('UpdateKeyDescription', { params, body: SCHEMAS.updateKey }), handle(async (ctx, request) => ({
    key: keyView(await keys.updateDescription(ctx, keyIdOf(request), (request.body as { description: string }).description)),
  })));

  const action = (path: string, name: string, run: KeyAction, body?: object) =>
    app.post(`/v1/keys/:keyId/${path}`, operation(name, { params, ...(body ? { body } : {}) }), handle(async (ctx, request) => ({
      key: keyView(await run(ctx, keyIdOf(request), (request.body ?? {}) as Record<string, any>)),
    })));

  action('enable', 'EnableKey', (ctx, id) => keys.enable(ctx, id));
  action('disable', 'DisableKey', (ctx, id) => keys.disable(ctx, id));
  action('rotate', 'RotateKeyOnDemand', (ctx, id) => rotation.rotateOnDemand(ctx, id));
  action('cancel-deletion', 'CancelKeyDeletion', (ctx, id) => keys.cancelDeletion(ctx, id));
  action('schedule-deletion', 'ScheduleKeyDeletion', (ctx, id, b) => keys.scheduleDeletion(ctx, id, b.pendingWindowInDays), SCHEMAS.scheduleDeletion);
  action('tags', 'TagResource', (ctx, id, b) => keys.tag(ctx, id, b.tags), SCHEMAS.tags);
  action('untag', 'UntagResource', (ctx, id, b) => keys.untag(ctx, id, b.tagKeys), SCHEMAS.untag);

  app.put('/v1/keys/:keyId/rotation', operation('EnableKeyRotation', { params, body: SCHEMAS.setRotation }), handle(async (ctx, request) => {
    const { enabled, periodInDays } = request.body as { enabled: boolean; periodInDays?: number };
    const key = enabled ? await rotation.enableRotation(ctx, keyIdOf(request), periodInDays) : await rotation.disableRotation(ctx, keyIdOf(request));
    return { key: keyView(key) };
  }));

  app.get('/v1/keys/:keyId/rotations', operation('ListKeyRotations', { params }), handle(async (ctx, request) => ({
    rotations: (await rotation.listRotations(ctx, keyIdOf(request))).map((r) => ({
      version: r.version,
      keyMaterialId: r.keyMaterialId,
      rotationType: r.rotationType,
      rotatedAt: r.rotatedAt.toISOString(),
    })),
  })));
}
