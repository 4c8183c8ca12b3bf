/**
 * GET /v1/metrics in-process over real HTTPS (one process, its own registry): the served certificate's expiry equals
 * what /v1/status and /v1/pki/status report, the CA's equals the CA certificate clients trust, the health gauges;
 * authenticated and authorized like every native route (datadefender:GetMetrics) and audited as GetMetrics.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { addPrincipal } from '../helpers/principals.js';
import { parseSamples, samplesOf } from '../helpers/prometheus-text.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const EXPIRY = 'datadefender_certificate_expiry_timestamp_seconds';

describe('GET /v1/metrics', () => {
  let dir: string;
  let server: RunningServer;
  let admin: DevCredentialsFile;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-metrics-'));
    server = await startServer(loadServerConfig({ dev: true, dataDir: dir, listen: '127.0.0.1:0' }, {}), pino({ level: 'silent' }));
    admin = JSON.parse(await readFile(server.credentialsFile!, 'utf8')) as DevCredentialsFile;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers Prometheus text: the served certificate expires when /v1/status says, the CA when its certificate says', async () => {
    const rest = restClient(admin);
    const res = await rest('GET', '/v1/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const samples = parseSamples(res.body as string);

    const status = (await rest('GET', '/v1/status')).body as { certificate: { notAfter: string; renewAt: string } };
    const pki = (await rest('GET', '/v1/pki/status')).body as { serverCertificate: { serial: string } };
    expect(samplesOf(samples, EXPIRY, { certificate: 'server' })).toEqual([
      { name: EXPIRY, labels: { certificate: 'server', serial: pki.serverCertificate.serial }, value: Date.parse(status.certificate.notAfter) / 1000 },
    ]);
    expect(samplesOf(samples, 'datadefender_certificate_renewal_timestamp_seconds')).toEqual([
      { name: 'datadefender_certificate_renewal_timestamp_seconds', labels: { certificate: 'server', serial: pki.serverCertificate.serial }, value: Date.parse(status.certificate.renewAt) / 1000 },
    ]);
    const ca = new X509Certificate(await readFile(admin.caCertFile, 'utf8'));
    expect(samplesOf(samples, EXPIRY, { certificate: 'ca' })).toEqual([
      { name: EXPIRY, labels: { certificate: 'ca', serial: ca.serialNumber.toLowerCase() }, value: Date.parse(ca.validTo) / 1000 },
    ]);

    expect((res.body as string).split('\n')).toEqual(expect.arrayContaining(['datadefender_sealed 0', 'datadefender_audit_available 1', 'datadefender_root_available 1']));
    expect(samplesOf(samples, 'datadefender_process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samples.filter((s) => !s.name.startsWith('datadefender_'))).toEqual([]);
  });

  it('refuses a request without valid credentials', async () => {
    for (const token of [null, 'nope']) {
      const res = await restClient(admin, { token })('GET', '/v1/metrics');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
    }
  });

  it('needs datadefender:GetMetrics: a security analyst has it, a developer does not', async () => {
    const analyst = await addPrincipal(admin, 'metrics-analyst', { roles: ['security-analyst'] });
    const developer = await addPrincipal(admin, 'metrics-developer', { roles: ['developer'] });
    expect((await restClient(analyst)('GET', '/v1/metrics')).status).toBe(200);
    const denied = await restClient(developer)('GET', '/v1/metrics');
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toContain('application/problem+json');
    expect(denied.body).toMatchObject({ code: 'ERR_ACCESS_DENIED', status: 403 });
    expect(denied.body.detail).toContain('datadefender:GetMetrics');
  });

  it('records every scrape in the audit trail, allowed or denied', async () => {
    const rest = restClient(admin);
    const allowed = await rest('GET', '/v1/metrics');
    const developer = await addPrincipal(admin, 'metrics-developer-2', { roles: ['developer'] });
    const denied = await restClient(developer)('GET', '/v1/metrics');
    const eventOf = async (requestId: string) => {
      const { events } = (await rest('GET', `/v1/audit/events?eventName=GetMetrics&requestId=${requestId}`)).body as { events: Array<Record<string, unknown>> };
      expect(events).toHaveLength(1);
      return events[0]!;
    };
    expect(await eventOf(allowed.headers['x-request-id'] as string)).toMatchObject({ eventName: 'GetMetrics', eventSource: 'rest', outcome: 'success', readOnly: true, principal: admin.principalArn });
    expect(await eventOf(denied.headers['x-request-id'] as string)).toMatchObject({ eventName: 'GetMetrics', outcome: 'denied', errorCode: 'ERR_ACCESS_DENIED', principal: developer.principalArn });
  });
});
