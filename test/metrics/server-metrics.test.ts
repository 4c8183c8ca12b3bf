/**
 * The server's metrics registry alone: certificate expiry from the serving certificate and the CA bundle, health read
 * at scrape time (once per scrape), the `datadefender_` prefix, and how the gauges aggregate across workers.
 */
import { X509Certificate } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServerMetrics, exposeLocally, type HealthFacts, type ServedCertificate } from '../../src/metrics/server-metrics.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { parseSamples, samplesOf } from '../helpers/prometheus-text.js';

const EXPIRY = 'datadefender_certificate_expiry_timestamp_seconds';
const RENEWAL = 'datadefender_certificate_renewal_timestamp_seconds';
const OK: HealthFacts = { status: 'ok', audit: 'ok', root: 'ok' };
const seconds = (iso: string) => Date.parse(iso) / 1000;

/** Two CA certificates (a bundle as the built-in CA gives it) with their serials and notAfter. */
let bundle: string;
let cas: Array<{ serial: string; notAfter: number }>;

beforeAll(async () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const pems = await Promise.all(
    ['2031-01-01T00:00:00Z', '2029-06-30T12:00:00Z'].map(async (end) => (await createRootCa({ commonName: `ca ${end}`, notBefore, notAfter: new Date(end) })).certPem),
  );
  bundle = pems.join('\n');
  cas = pems.map((pem) => {
    const c = new X509Certificate(pem);
    return { serial: c.serialNumber.toLowerCase(), notAfter: Date.parse(c.validTo) / 1000 };
  });
});

const served = (serial: string, notAfter = '2027-01-01T00:00:00Z', renewAt: string | null = '2026-12-11T08:00:00.500Z'): ServedCertificate => ({
  serial,
  notAfter: new Date(notAfter),
  renewAt: renewAt === null ? null : new Date(renewAt),
});

function registryWith(options: { health?: () => Promise<HealthFacts>; serving?: ServedCertificate; caBundle?: string } = {}) {
  return createServerMetrics({
    health: options.health ?? (async () => OK),
    serving: () => options.serving ?? served('0a1b'),
    caBundle: async () => options.caBundle ?? bundle,
  });
}

const scrape = async (registry: ReturnType<typeof createServerMetrics>) => parseSamples((await exposeLocally(registry)()).text);

describe('server metrics', () => {
  it('give the served certificate and every trusted CA certificate as notAfter in epoch seconds', async () => {
    const samples = await scrape(registryWith());
    expect(samplesOf(samples, EXPIRY)).toEqual([
      { name: EXPIRY, labels: { certificate: 'server', serial: '0a1b' }, value: seconds('2027-01-01T00:00:00Z') },
      ...cas.map((ca) => ({ name: EXPIRY, labels: { certificate: 'ca', serial: ca.serial }, value: ca.notAfter })),
    ]);
    expect(cas.map((ca) => ca.notAfter)).toEqual([seconds('2031-01-01T00:00:00Z'), seconds('2029-06-30T12:00:00Z')]);
    expect(samplesOf(samples, RENEWAL)).toEqual([{ name: RENEWAL, labels: { certificate: 'server', serial: '0a1b' }, value: seconds('2026-12-11T08:00:00.500Z') }]);
  });

  it('leave out the renewal time of a certificate that is not renewed, and CA samples without a CA', async () => {
    const samples = await scrape(registryWith({ serving: served('ff', '2028-02-02T00:00:00Z', null), caBundle: '' }));
    expect(samplesOf(samples, EXPIRY)).toEqual([{ name: EXPIRY, labels: { certificate: 'server', serial: 'ff' }, value: seconds('2028-02-02T00:00:00Z') }]);
    expect(samplesOf(samples, RENEWAL)).toEqual([]);
  });

  it('follow a renewed certificate: the replaced serial disappears', async () => {
    let current = served('01');
    const registry = createServerMetrics({ health: async () => OK, serving: () => current, caBundle: async () => '' });
    await scrape(registry);
    current = served('02', '2027-02-01T00:00:00Z');
    expect(samplesOf(await scrape(registry), EXPIRY).map((s) => s.labels.serial)).toEqual(['02']);
  });

  it('read the health report at scrape time, once per scrape', async () => {
    let health: HealthFacts = OK;
    let calls = 0;
    const registry = registryWith({ health: async () => (calls++, health) });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(0); // no timer reads it
    const flags = async () => {
      const samples = await scrape(registry);
      return ['datadefender_sealed', 'datadefender_audit_available', 'datadefender_root_available'].map((name) => samplesOf(samples, name).map((s) => s.value));
    };
    expect(await flags()).toEqual([[0], [1], [1]]);
    expect(calls).toBe(1);
    health = { status: 'sealed', audit: 'ok', root: 'ok' };
    expect(await flags()).toEqual([[1], [1], [1]]);
    health = { status: 'degraded', audit: 'unavailable', root: 'unavailable' };
    expect(await flags()).toEqual([[0], [0], [0]]);
    expect(calls).toBe(3);
  });

  it('name every metric datadefender_ and include the process metrics', async () => {
    const exposition = await exposeLocally(registryWith())();
    expect(exposition.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseSamples(exposition.text);
    expect(samples.filter((s) => !s.name.startsWith('datadefender_'))).toEqual([]);
    for (const name of ['datadefender_process_cpu_user_seconds_total', 'datadefender_process_resident_memory_bytes', 'datadefender_nodejs_heap_size_used_bytes']) {
      expect(samplesOf(samples, name), name).toHaveLength(1);
    }
  });

  it('aggregate across workers without summing one fact', async () => {
    const a = registryWith({ serving: served('aa', '2027-01-01T00:00:00Z') });
    const b = registryWith({ serving: served('bb', '2027-01-02T00:00:00Z'), health: async () => ({ status: 'sealed', audit: 'unavailable', root: 'ok' }) });
    const one = await scrape(a);
    const aggregated = parseSamples(await AggregatorRegistry.aggregate([await a.getMetricsAsJSON(), await b.getMetricsAsJSON()]).metrics());
    // One series per certificate, each with its own notAfter; the CAs both workers trust once, not doubled.
    expect(samplesOf(aggregated, EXPIRY, { certificate: 'server' }).sort((x, y) => x.value - y.value)).toEqual([
      { name: EXPIRY, labels: { certificate: 'server', serial: 'aa' }, value: seconds('2027-01-01T00:00:00Z') },
      { name: EXPIRY, labels: { certificate: 'server', serial: 'bb' }, value: seconds('2027-01-02T00:00:00Z') },
    ]);
    expect(samplesOf(aggregated, EXPIRY, { certificate: 'ca' }).map((s) => s.value)).toEqual(cas.map((ca) => ca.notAfter));
    // Sealed anywhere counts (max); unavailable anywhere counts (min).
    expect(samplesOf(aggregated, 'datadefender_sealed').map((s) => s.value)).toEqual([1]);
    expect(samplesOf(aggregated, 'datadefender_audit_available').map((s) => s.value)).toEqual([0]);
    expect(samplesOf(aggregated, 'datadefender_root_available').map((s) => s.value)).toEqual([1]);
    // Process metrics are prom-client's: a per-process limit sums over the workers.
    const maxFds = samplesOf(one, 'datadefender_process_max_fds');
    if (maxFds.length > 0) expect(samplesOf(aggregated, 'datadefender_process_max_fds')[0]!.value).toBe(2 * maxFds[0]!.value);
  });
});
