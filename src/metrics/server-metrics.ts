/**
 * The server's Prometheus metrics (issue #7: certificate expiry is visible in status and metrics), in a registry of
 * its own: the expiry of the certificate the listener serves and of the CA certificates clients trust, the seal, the
 * audit trail's and the root of trust's availability (from the health report), and prom-client's process metrics.
 *
 * Invariants:
 * - Read at scrape time only: `collect()` callbacks ask the sources when a scrape comes; no timer, nothing on the
 *   request path. The gauges of one scrape share one health report.
 * - Every name starts with `datadefender_`.
 * - Across `server --workers N` (cluster-metrics.ts) nothing that is one fact is summed: a certificate's expiry is one
 *   series per certificate (`serial`), the same in every worker that serves it ('first'); sealed is 'max' (any worker
 *   sealed); availability is 'min' (any worker without its audit trail or root counts).
 * - Only public facts: serials and expiry dates (every TLS client sees them) and health flags.
 */
import { X509Certificate } from 'node:crypto';
import { Gauge, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import { splitPemBundle } from '../pki/intermediate-ca.js';

const METRICS_PREFIX = 'datadefender_';

/** The part of the health report the gauges read (protocols/rest/routes/system.ts HealthReport has it). */
export interface HealthFacts {
  status: 'ok' | 'degraded' | 'sealed';
  audit: 'ok' | 'unavailable';
  root: 'ok' | 'unavailable';
}

/** The certificate the listener serves now, and when it is renewed (null: never, e.g. the operator's own). */
export interface ServedCertificate {
  serial: string;
  notAfter: Date;
  renewAt: Date | null;
}

export interface ServerMetricsSources {
  health: () => Promise<HealthFacts>;
  serving: () => ServedCertificate;
  /** The PEM bundle of the CA certificates clients trust (with chains); empty without a built-in CA. */
  caBundle: () => Promise<string>;
}

/** One scrape's answer: Prometheus text exposition and its content type. */
export interface Exposition {
  contentType: string;
  text: string;
}

export type Scrape = () => Promise<Exposition>;

/** How a server answers scrapes of `registry`: alone, or as one worker of a cluster (cluster-metrics.ts). */
export type ExposeMetrics = (registry: Registry) => Scrape;

/** A single process: its own registry. */
export const exposeLocally: ExposeMetrics = (registry) => async () => ({ contentType: registry.contentType, text: await registry.metrics() });

interface HealthGauge {
  name: string;
  help: string;
  aggregator: Aggregator;
  value: (health: HealthFacts) => boolean;
}

const HEALTH_GAUGES = [
  { name: 'sealed', help: '1 while the root of trust is sealed (key operations are refused), else 0.', aggregator: 'max', value: (h) => h.status === 'sealed' },
  { name: 'audit_available', help: '1 when the audit trail records events, else 0 (operations then fail closed).', aggregator: 'min', value: (h) => h.audit === 'ok' },
  { name: 'root_available', help: '1 when the root of trust (HSM, upstream KMS) answers, else 0.', aggregator: 'min', value: (h) => h.root === 'ok' },
] as const satisfies readonly HealthGauge[];

const CERTIFICATE_LABELS = ['certificate', 'serial'] as const;
const epochSeconds = (date: Date) => date.getTime() / 1000;

/** Serial (lower-case hex, as the inventory spells it) and notAfter of every certificate of a PEM bundle. */
function certificatesOf(bundle: string): Array<{ serial: string; notAfter: Date }> {
  return splitPemBundle(bundle).map((pem) => {
    const certificate = new X509Certificate(pem);
    return { serial: certificate.serialNumber.toLowerCase(), notAfter: new Date(certificate.validTo) };
  });
}

/** One call of `fn` shared by every caller while it runs (the gauges of one scrape are collected together). */
function shared<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => (running ??= fn().finally(() => (running = undefined)));
}

/** A registry holding every DataDefender metric and the process metrics, each read from `sources` when scraped. */
export function createServerMetrics(sources: ServerMetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  const health = shared(sources.health);

  new Gauge({
    name: `${METRICS_PREFIX}certificate_expiry_timestamp_seconds`,
    help: 'notAfter (seconds since the epoch) of the certificate the listener serves (certificate="server") and of each CA certificate clients trust (certificate="ca").',
    labelNames: CERTIFICATE_LABELS,
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const cas = certificatesOf(await sources.caBundle());
      const served = sources.serving();
      this.reset();
      this.set({ certificate: 'server', serial: served.serial }, epochSeconds(served.notAfter));
      for (const ca of cas) this.set({ certificate: 'ca', serial: ca.serial }, epochSeconds(ca.notAfter));
    },
  });

  new Gauge({
    name: `${METRICS_PREFIX}certificate_renewal_timestamp_seconds`,
    help: 'When (seconds since the epoch) the server renews the certificate it serves; absent when it does not renew it (the operator\'s own).',
    labelNames: CERTIFICATE_LABELS,
    aggregator: 'first',
    registers: [registry],
    collect() {
      const { serial, renewAt } = sources.serving();
      this.reset();
      if (renewAt) this.set({ certificate: 'server', serial }, epochSeconds(renewAt));
    },
  });

  for (const gauge of HEALTH_GAUGES) {
    new Gauge({
      name: `${METRICS_PREFIX}${gauge.name}`,
      help: gauge.help,
      aggregator: gauge.aggregator,
      registers: [registry],
      async collect() {
        this.set(gauge.value(await health()) ? 1 : 0);
      },
    });
  }
  return registry;
}
