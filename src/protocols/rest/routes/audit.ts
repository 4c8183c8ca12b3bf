/**
 * The audit trail over the native API: search (LookupEvents; `hash=` finds the events whose record holds a keyed
 * hash), the chains, checkpoints and chained events a verifier or an export reads (VerifyAuditTrail /
 * ExportAuditTrail, by `purpose`), the signed archive records that stand in for archived events, keyed hashes for
 * investigators, and applying the retention (ArchiveAuditTrail).
 * Invariants: every route is an authorized, audited operation of core/audit-trail.ts; pages are bounded (1000
 * events); chained events are returned exactly as stored (record text, hashes), so a client verifies them itself.
 */
import type { FastifyInstance } from 'fastify';
import { KEYED_HASH_PATTERN } from '../../../audit/sensitive.js';
import { MAX_SEARCH_HASHES, type AuditPurpose } from '../../../core/audit-trail.js';
import type { KeyService } from '../../../core/key-service.js';
import { ValidationError } from '../../../errors/index.js';
import { queryInteger } from '../../../http/query.js';
import type { StoredAuditEvent } from '../../../ports/audit-sink.js';
import { handle, operation } from '../rest-context.js';

const closed = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const integerString = { type: 'string', pattern: '^[0-9]{1,15}$' };
const text = { type: 'string', minLength: 1, maxLength: 2048 };
const time = { type: 'string', minLength: 1, maxLength: 40 };
const purpose = { type: 'string', enum: ['verify', 'export'] };
const chainId = { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' };
/** A keyed hash as `POST /v1/audit/hash` returns it (audit/sensitive.ts); repeat `hash=` to find any of several. */
const keyedHash = { type: 'string', pattern: KEYED_HASH_PATTERN.source };
const hashes = { anyOf: [keyedHash, { type: 'array', items: keyedHash, minItems: 1, maxItems: MAX_SEARCH_HASHES }] };

const SCHEMAS = {
  search: closed({
    after: integerString,
    limit: integerString,
    eventName: text,
    principal: text,
    resource: text,
    outcome: { type: 'string', enum: ['attempt', 'success', 'failure', 'denied'] },
    requestId: text,
    from: time,
    to: time,
    hash: hashes,
  }),
  purpose: closed({ purpose }),
  checkpoints: closed({ purpose, chain: chainId }),
  chainParams: closed({ chainId }, ['chainId']),
  chainEvents: closed({ purpose, after: integerString, limit: integerString }),
  hash: closed({ value: { type: 'string', maxLength: 8192 } }, ['value']),
  archive: closed({ dryRun: { type: 'boolean' } }),
};

function timeOf(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new ValidationError(`${name} must be an ISO 8601 time.`);
  return t;
}

/** A search result: the indexed fields, the chain position and the CloudTrail record it was hashed as. */
function searchResult(e: StoredAuditEvent) {
  const { chain, ...event } = e;
  if (!chain) return event;
  return { ...event, chain: { chainId: chain.chainId, sequence: chain.sequence, hash: chain.hash }, record: JSON.parse(chain.record) as unknown };
}

export function auditRoutes(app: FastifyInstance, service: KeyService): void {
  const trail = service.auditTrail;
  const purposeOf = (q: { purpose?: string }): AuditPurpose => (q.purpose === 'export' ? 'export' : 'verify');

  app.get('/v1/audit/events', operation('LookupEvents', { querystring: SCHEMAS.search }), handle(async (ctx, request) => {
    const q = request.query as Record<string, string | undefined>;
    // One `hash=` arrives as a string, a repeated one as an array (any of them matches).
    const { hash } = request.query as { hash?: string | string[] };
    const limit = Math.min(queryInteger(q.limit) ?? 100, 1000);
    const from = timeOf(q.from, 'from');
    const to = timeOf(q.to, 'to');
    const events = await trail.read(ctx, {
      afterSequence: queryInteger(q.after) ?? 0,
      limit,
      ...(q.eventName ? { eventName: q.eventName } : {}),
      ...(q.principal ? { principal: q.principal } : {}),
      ...(q.resource ? { resource: q.resource } : {}),
      ...(q.outcome ? { outcome: q.outcome as StoredAuditEvent['outcome'] } : {}),
      ...(q.requestId ? { requestId: q.requestId } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(hash !== undefined ? { hashes: typeof hash === 'string' ? [hash] : hash } : {}),
    });
    const last = events.at(-1);
    return { events: events.map(searchResult), ...(events.length === limit && last ? { nextAfter: last.sequence } : {}) };
  }));

  app.get('/v1/audit/chains', operation('VerifyAuditTrail', { querystring: SCHEMAS.purpose }), handle(async (ctx, request) => {
    const { chains, publicKeys } = await trail.chains(ctx, purposeOf(request.query as { purpose?: string }));
    return { chains, publicKeys };
  }));

  app.get('/v1/audit/checkpoints', operation('VerifyAuditTrail', { querystring: SCHEMAS.checkpoints }), handle(async (ctx, request) => {
    const q = request.query as { purpose?: string; chain?: string };
    return { checkpoints: await trail.checkpoints(ctx, purposeOf(q), q.chain) };
  }));

  app.get(
    '/v1/audit/chains/:chainId/events',
    operation('VerifyAuditTrail', { params: SCHEMAS.chainParams, querystring: SCHEMAS.chainEvents }),
    handle(async (ctx, request) => {
      const q = request.query as { purpose?: string; after?: string; limit?: string };
      const { chainId: id } = request.params as { chainId: string };
      const limit = Math.min(queryInteger(q.limit) ?? 1000, 1000);
      const events = await trail.chainEvents(ctx, purposeOf(q), id, { afterSequence: queryInteger(q.after) ?? 0, limit });
      return { events };
    }),
  );

  app.get('/v1/audit/archives', operation('VerifyAuditTrail', { querystring: SCHEMAS.checkpoints }), handle(async (ctx, request) => {
    const q = request.query as { purpose?: string; chain?: string };
    return { archives: await trail.archives(ctx, purposeOf(q), q.chain) };
  }));

  app.post('/v1/audit/archive', operation('ArchiveAuditTrail', { body: SCHEMAS.archive }), handle(async (ctx, request) =>
    trail.archive(ctx, { dryRun: (request.body as { dryRun?: boolean } | undefined)?.dryRun === true }),
  ));

  app.post('/v1/audit/hash', operation('ComputeAuditHash', { body: SCHEMAS.hash }), handle(async (ctx, request) => ({
    hashes: await trail.hash(ctx, (request.body as { value: string }).value),
  })));
}
