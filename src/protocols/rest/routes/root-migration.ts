import type { FastifyInstance } from 'fastify';
import type { RootMigrations } from '../../../core/root-migration.js';
import { handle, operation } from '../rest-context.js';

const closed = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const SHARE_COUNT = { type: 'integer', minimum: 1, maximum: 255 };

const SCHEMAS = {
  rotate: closed({ awsKmsKeyId: { type: 'string', minLength: 1, maxLength: 2048 } }),
  migrate: closed(
    {
      to: { type: 'string', enum: ['local', 'local-sealed', 'pkcs11', 'aws-kms'] },
      createKey: { type: 'boolean' },
      shares: SHARE_COUNT,
      threshold: SHARE_COUNT,
      awsKmsKeyId: { type: 'string', minLength: 1, maxLength: 2048 },
    },
    ['to'],
  ),
};

/**
 * Root rotation and migration under /v1/operator (administrators; dual-controlled when configured):
 * POST rotate-root and migrate-root start (or resume) a re-wrap job that continues in the background and answer with
 * the ring and the job's progress; GET root-migration reads the progress. New unseal shares (migrate-root to
 * local-sealed) are in the answer once and nowhere else.
 */
export function rootMigrationRoutes(app: FastifyInstance, migrations: RootMigrations): void {
  app.post('/v1/operator/rotate-root', operation('RotateRoot', { body: SCHEMAS.rotate }), handle(async (ctx, request) => {
    const body = (request.body ?? {}) as { awsKmsKeyId?: string };
    return migrations.rotate(ctx, body.awsKmsKeyId === undefined ? {} : { awsKmsKeyId: body.awsKmsKeyId });
  }));

  app.post('/v1/operator/migrate-root', operation('MigrateRoot', { body: SCHEMAS.migrate }), handle(async (ctx, request) => {
    const body = request.body as { to: string; createKey?: boolean; shares?: number; threshold?: number; awsKmsKeyId?: string };
    return migrations.migrate(ctx, body);
  }));

  app.get('/v1/operator/root-migration', operation('GetRootMigration'), handle(async (ctx) => migrations.progress(ctx)));
}
