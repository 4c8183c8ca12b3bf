/**
 * The native REST API as one encapsulated Fastify plugin: bearer authentication on every route but health,
 * JSON-schema validation of every body (closed objects), and RFC 9457 problem+json errors from one table.
 * Invariants: a request that fails authentication or validation is audited like any other; no response
 * carries a stack trace or an internal message; unknown errors are logged with the request id and answered
 * with ERR_INTERNAL's fixed text.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DataDefenderError,
  InternalError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
  toDataDefenderError,
} from '../../errors/index.js';
import type { KeyService } from '../../core/key-service.js';
import type { BearerAuthenticator } from '../../identity/bearer-authenticator.js';
import type { CertificateAuthenticator } from '../../identity/certificate-authenticator.js';
import type { IdentityService } from '../../identity/identity-service.js';
import type { TLSSocket } from 'node:tls';
import { problemOf } from './problem.js';
import { contextOf } from './rest-context.js';
import { aliasRoutes } from './routes/aliases.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditRoutes } from './routes/audit.js';
import { credentialRoutes } from './routes/credentials.js';
import { policyRoutes } from './routes/policies.js';
import { principalRoutes } from './routes/principals.js';
import { operatorRoutes } from './routes/operator.js';
import { rootMigrationRoutes } from './routes/root-migration.js';
import type { RootMigrations } from '../../core/root-migration.js';
import type { RootOperations } from '../../core/root-operations.js';
import { cryptoRoutes } from './routes/crypto.js';
import { keyRoutes } from './routes/keys.js';
import { metricsRoutes, type ScrapeMetrics } from './routes/metrics.js';
import { pkiRoutes, type PkiRouteDeps } from './routes/pki.js';
import { systemRoutes, type HealthReport } from './routes/system.js';

export interface RestApiDeps {
  service: KeyService;
  identity: IdentityService;
  root: RootOperations;
  /** Root rotation and migration (rotate-root, migrate-root, progress); absent: those routes are not offered. */
  rootMigrations?: RootMigrations;
  authenticate: BearerAuthenticator;
  /** Mutual TLS: the principal mapped to the connection's client certificate (used when there is no bearer token). */
  authenticateCertificate?: CertificateAuthenticator;
  health: () => Promise<HealthReport>;
  /** Prometheus metrics for `GET /v1/metrics`. */
  metrics: ScrapeMetrics;
  /** The built-in CA (issue #7); its routes are absent without it. */
  pki?: PkiRouteDeps;
}

/** Fastify's own errors (parsing, limits, schema validation) as DataDefender errors with fixed, safe texts. */
function fromFramework(error: FastifyError): DataDefenderError {
  if (error.validation) {
    const detail = error.validation.map((v) => `${error.validationContext ?? 'request'}${v.instancePath} ${v.message ?? 'is invalid'}`).join('; ');
    return new ValidationError(`Invalid request: ${detail}.`);
  }
  if (error.statusCode === 413) return new PayloadTooLargeError('The request body is too large.');
  if (error.statusCode === 415) return new ValidationError('Content-Type must be application/json.');
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return new ValidationError('The request body is not valid JSON.');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ValidationError('The request is malformed.');
  }
  return new InternalError({ cause: error });
}

export async function restApi(app: FastifyInstance, deps: RestApiDeps): Promise<void> {
  const { service, identity, authenticate, authenticateCertificate } = deps;

  /** A bearer token when the request carries one; else the connection's mapped client certificate; else refused. */
  const callerOf = async (request: FastifyRequest) => {
    if (request.headers.authorization === undefined && authenticateCertificate) {
      const caller = await authenticateCertificate(request.raw.socket as TLSSocket);
      if (caller) return caller;
    }
    return authenticate(request.headers.authorization);
  };

  const audited = async (request: FastifyRequest, error: DataDefenderError): Promise<DataDefenderError> => {
    const name = request.routeOptions.config.operation;
    if (request.auditState?.recorded || !name) return error;
    return service
      .run(contextOf(request), name, { readOnly: true }, () => Promise.reject(error))
      .then(() => error, toDataDefenderError);
  };

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    try {
      request.caller = await callerOf(request);
    } catch (err) {
      throw await audited(request, toDataDefenderError(err));
    }
  });

  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let failure = error instanceof DataDefenderError ? error : fromFramework(error);
    failure = await audited(request, failure);
    if (failure.code === 'ERR_INTERNAL' || failure.code === 'ERR_AUDIT_UNAVAILABLE' || failure.code === 'ERR_DEPENDENCY') {
      request.log.error({ err: failure.cause ?? failure, requestId: request.id }, `${failure.code} on ${request.routeOptions.config.operation ?? request.url}`);
    }
    const problem = problemOf(failure, request.id);
    return reply.code(problem.status).type('application/problem+json').send(problem);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const problem = problemOf(new NotFoundError(`No route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}.`), request.id);
    return reply.code(404).type('application/problem+json').send(problem);
  });

  systemRoutes(app, service, deps.root, deps.health);
  metricsRoutes(app, service, deps.metrics);
  operatorRoutes(app, deps.root);
  if (deps.rootMigrations) rootMigrationRoutes(app, deps.rootMigrations);
  keyRoutes(app, service);
  cryptoRoutes(app, service);
  aliasRoutes(app, service);
  principalRoutes(app, identity);
  credentialRoutes(app, identity);
  policyRoutes(app, identity);
  approvalRoutes(app, service);
  auditRoutes(app, service);
  if (deps.pki) pkiRoutes(app, deps.pki);
}
