/**
 * Per-request plumbing of the native API: the authenticated caller, the core RequestContext, and the
 * `operation` helper that names each route's operation (for the audit trail).
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Caller, RequestContext } from '../../core/request-context.js';
import { requestDigest } from '../../http/request-digest.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    /** Marked by the core once it recorded the request's outcome. */
    auditState?: { recorded: boolean };
  }
  interface FastifyContextConfig {
    /** AWS operation name used for the audit event. */
    operation?: string;
    /** No authentication (health). */
    public?: boolean;
  }
}

export const ANONYMOUS: Caller = Object.freeze({ principalId: 'anonymous', arn: 'anonymous', roles: Object.freeze([]), credential: 'none' });

export function contextOf(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  request.auditState ??= { recorded: false };
  return {
    audit: request.auditState,
    requestId: request.id,
    source: 'rest',
    caller: request.caller ?? ANONYMOUS,
    sourceIp: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 256) : null,
    requestDigest: () => requestDigest(['rest', request.method, request.url], request.body),
  };
}

/** Route options for an operation: its audit name and its schemas. */
export function operation(
  name: string,
  schema: { body?: object; params?: object; querystring?: object; response?: Record<number, object> } = {},
): RouteShorthandOptions {
  return { config: { operation: name }, schema };
}

type Handler<R> = (ctx: RequestContext, request: FastifyRequest, reply: FastifyReply) => Promise<R>;

/** Wraps a handler: gives it the request's core context. */
export function handle<R>(fn: Handler<R>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<R> => fn(contextOf(request), request, reply);
}
