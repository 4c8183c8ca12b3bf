/**
 * The built-in CA over the native API, under /v1/pki: init (root or intermediate), install the intermediate's
 * certificate, issue, revoke, list, status (administrators; audited by the core), and the CRL (public: relying
 * parties fetch it without credentials, RFC 5280 §5).
 * Invariants: every body is a closed schema; the CRL answer is the DER or PEM the CA signed, nothing else; a CRL
 * that cannot be produced (no CA, sealed) is a problem answer like any other, never a stale or unsigned list.
 */
import type { FastifyInstance } from 'fastify';
import type { CertificateAuthority } from '../../../pki/certificate-authority.js';
import { toDataDefenderError } from '../../../errors/index.js';
import { handle, operation } from '../rest-context.js';

/** What the routes need: the CA and what the listener serves now. */
export interface PkiRouteDeps {
  ca: CertificateAuthority;
  serving: () => { serial: string; notAfter: Date; renewAt: Date | null; source: string } | undefined;
}

const closed = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const pem = { type: 'string', minLength: 1, maxLength: 65_536 };
const days = { type: 'integer', minimum: 1, maximum: 7300 };

const SCHEMAS = {
  init: closed({ kind: { type: 'string', enum: ['root', 'intermediate'] }, commonName: { type: 'string', minLength: 1, maxLength: 64 }, validityDays: days }, ['kind', 'commonName']),
  install: closed({ certificatePem: pem, chainPem: pem }, ['certificatePem', 'chainPem']),
  issue: closed(
    {
      profile: { type: 'string', enum: ['server', 'client'] },
      hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 }, minItems: 1, maxItems: 100 },
      principal: { type: 'string', minLength: 1, maxLength: 64 },
      validityDays: days,
      csrPem: pem,
    },
    ['profile'],
  ),
  serialParams: closed({ serial: { type: 'string', minLength: 1, maxLength: 64 } }, ['serial']),
  revoke: closed({ reason: { type: 'string', maxLength: 64 } }),
  crlQuery: closed({ format: { type: 'string', enum: ['der', 'pem', 'json'] } }),
};

export function pkiRoutes(app: FastifyInstance, deps: PkiRouteDeps): void {
  const { ca } = deps;

  app.post('/v1/pki/ca', operation('InitCertificateAuthority', { body: SCHEMAS.init }), handle(async (ctx, request, reply) => {
    const body = request.body as { kind: 'root' | 'intermediate'; commonName: string; validityDays?: number };
    const authority = await ca.init(ctx, { kind: body.kind, commonName: body.commonName, ...(body.validityDays ? { validityDays: body.validityDays } : {}) });
    reply.code(201);
    return { authority };
  }));

  app.put('/v1/pki/ca/certificate', operation('InitCertificateAuthority', { body: SCHEMAS.install }), handle(async (ctx, request) => {
    const body = request.body as { certificatePem: string; chainPem: string };
    return { authority: await ca.installIntermediate(ctx, body.certificatePem, body.chainPem) };
  }));

  app.post('/v1/pki/certificates', operation('IssueCertificate', { body: SCHEMAS.issue }), handle(async (ctx, request, reply) => {
    const issued = await ca.issue(ctx, request.body as Parameters<typeof ca.issue>[1]);
    reply.code(201);
    return issued;
  }));

  app.get('/v1/pki/certificates', operation('ListCertificates'), handle(async (ctx) => ({ certificates: await ca.list(ctx) })));

  app.post('/v1/pki/certificates/:serial/revoke', operation('RevokeCertificate', { params: SCHEMAS.serialParams, body: SCHEMAS.revoke }), handle(async (ctx, request) => {
    const { serial } = request.params as { serial: string };
    const { reason } = (request.body ?? {}) as { reason?: string };
    return { certificate: await ca.revoke(ctx, serial, reason) };
  }));

  app.get('/v1/pki/status', operation('GetPkiStatus'), handle(async (ctx) => ca.status(ctx, deps.serving)));

  // Public, like any CRL distribution point; the CRL is signed, so the channel need not be trusted.
  app.get('/v1/pki/crl', { config: { public: true }, schema: { querystring: SCHEMAS.crlQuery } }, async (request, reply) => {
    const { format } = request.query as { format?: 'der' | 'pem' | 'json' };
    let crl: { der: Buffer; pem: string };
    try {
      crl = await ca.crl();
    } catch (err) {
      throw toDataDefenderError(err);
    }
    if (format === 'json') return { crlPem: crl.pem };
    if (format === 'pem') return reply.type('application/x-pem-file').send(crl.pem);
    return reply.type('application/pkix-crl').send(crl.der);
  });
}
