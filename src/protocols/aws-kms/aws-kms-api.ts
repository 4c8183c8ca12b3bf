/**
 * The AWS KMS API (JSON 1.1, "TrentService") as one encapsulated Fastify plugin on `POST /`.
 * Request path: raw body -> SigV4 authentication over the exact bytes -> operation from `X-Amz-Target` ->
 * JSON parse -> shape validation -> core. ../shared/reference/aws-kms-protocol.md §1.
 * Invariants: every request is audited, the ones rejected before reaching the core too (under the operation's
 * name, or `UnknownOperation`); errors are `{"__type","message"}` with AWS's status codes and never carry internal
 * details; every response carries `x-amzn-RequestId`; unknown members are ignored, wrong types are refused.
 */
import { requestDigest } from '../../http/request-digest.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseGrantToken } from '../../core/grants.js';
import type { KeyService } from '../../core/key-service.js';
import type { RequestContext } from '../../core/request-context.js';
import {
  DataDefenderError,
  PayloadTooLargeError,
  UnknownOperationError,
  UnsupportedError,
  ValidationError,
  toDataDefenderError,
} from '../../errors/index.js';
import type { SigV4Authenticator } from '../../identity/sigv4-authenticator.js';
import type { Caller } from '../../policy/authorize.js';
import { awsErrorOf } from './aws-errors.js';
import { AWS_OPERATIONS } from './operations/index.js';
import { validateInput } from './shapes.js';

export const AWS_JSON = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'TrentService.';
/** Large enough for a 32 KB key policy or an imported 4096-bit RSA key, base64 and JSON-escaped. */
const BODY_LIMIT = 256 * 1024;

const ANONYMOUS: Caller = { principalId: 'anonymous', arn: 'anonymous', roles: [], credential: 'none' };

export interface AwsKmsApiDeps {
  service: KeyService;
  authenticate: SigV4Authenticator;
}

function operationName(target: string | string[] | undefined): string | undefined {
  if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) return undefined;
  const name = target.slice(TARGET_PREFIX.length);
  return Object.hasOwn(AWS_OPERATIONS, name) ? name : undefined;
}

function parseBody(raw: Buffer | undefined): unknown {
  if (raw === undefined || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
}

export async function awsKmsApi(app: FastifyInstance, deps: AwsKmsApiDeps): Promise<void> {
  const { service, authenticate } = deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, payload: object) =>
    reply.code(status).header('content-type', AWS_JSON).send(Buffer.from(JSON.stringify(payload), 'utf8'));

  const fail = async (request: FastifyRequest, reply: FastifyReply, ctx: RequestContext, name: string, err: unknown) => {
    let failure = toDataDefenderError(err);
    if (!ctx.audit?.recorded) {
      failure = await service.run(ctx, name, { readOnly: true }, () => Promise.reject(failure)).then(() => failure, toDataDefenderError);
    }
    if (failure.code === 'ERR_INTERNAL' || failure.code === 'ERR_AUDIT_UNAVAILABLE' || failure.code === 'ERR_DEPENDENCY') {
      request.log.error({ err: failure.cause ?? failure, requestId: request.id }, `${failure.code} on ${name}`);
    }
    const { status, body } = awsErrorOf(failure);
    return send(reply, status, body);
  };

  app.post('/', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    reply.header('x-amzn-RequestId', request.id);
    const raw = request.body as Buffer | undefined;
    const name = operationName(request.headers['x-amz-target']);
    const userAgent = request.headers['user-agent'];
    let ctx: RequestContext = {
      requestId: request.id,
      source: 'aws-kms',
      caller: ANONYMOUS,
      sourceIp: request.ip,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 256) : null,
      audit: { recorded: false },
    };
    try {
      const query = request.url.indexOf('?');
      const caller = await authenticate({
        method: request.method,
        path: query < 0 ? request.url : request.url.slice(0, query),
        query: query < 0 ? '' : request.url.slice(query + 1),
        headers: request.headers,
        body: raw ?? Buffer.alloc(0),
      });
      ctx = { ...ctx, caller };
      if (name === undefined) {
        const target = request.headers['x-amz-target'];
        throw new UnknownOperationError(`Unknown operation ${typeof target === 'string' ? target.slice(0, 128) : '(no X-Amz-Target)'}.`);
      }
      const operation = AWS_OPERATIONS[name]!;
      const body = parseBody(raw);
      ctx = { ...ctx, requestDigest: () => requestDigest(['aws-kms', name], body) };
      const input = validateInput(operation.input, body);
      if ((body as { DryRun?: unknown }).DryRun === true) throw new UnsupportedError('DryRun is not supported.');
      // Grant tokens only speed up a grant's visibility in AWS; ours are visible at once, so they are only validated.
      for (const token of (input.GrantTokens as string[] | undefined) ?? []) parseGrantToken(token);
      return send(reply, 200, await operation.run(service, ctx, input));
    } catch (err) {
      return fail(request, reply, ctx, name ?? 'UnknownOperation', err);
    }
  });

  app.setErrorHandler(async (error: Error, request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-amzn-RequestId', request.id);
    const status = (error as { statusCode?: number }).statusCode;
    const failure =
      error instanceof DataDefenderError
        ? error
        : status === 413
          ? new PayloadTooLargeError('The request body is too large.')
          : status !== undefined && status >= 400 && status < 500
            ? new ValidationError('The request is malformed.')
            : error;
    const ctx: RequestContext = { requestId: request.id, source: 'aws-kms', caller: ANONYMOUS, sourceIp: request.ip, userAgent: null, audit: { recorded: false } };
    return fail(request, reply, ctx, operationName(request.headers['x-amz-target']) ?? 'UnknownOperation', failure);
  });
}
