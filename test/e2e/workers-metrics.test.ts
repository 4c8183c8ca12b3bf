// `server --dev --workers 2`: a scrape of /v1/metrics lands on either worker and answers for both. Each worker serves
// a certificate of its own, so there is one expiry series per served certificate, valued at that certificate's
// notAfter (never a sum); the CA both trust is one series; process metrics are aggregated over the two workers.
// A sealed deployment answers too: the scrape is a read that works while sealed, and the seal is one of the metrics.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { parseSamples, samplesOf } from '../helpers/prometheus-text.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const CLOSE = { connection: 'close' }; // a new connection per request, so requests spread over the workers
const EXPIRY = 'datadefender_certificate_expiry_timestamp_seconds';

/** The certificate a fresh TLS connection is served: serial (lower-case hex) and notAfter in epoch seconds. */
function servedCertificate(port: number, ca: Buffer): Promise<[string, number]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve([peer.serialNumber.toLowerCase(), Date.parse(peer.valid_to) / 1000]);
    });
    socket.once('error', reject);
  });
}

/** This process's open-files limit, which the server's processes share (each Node process raises it alike). */
function maxOpenFiles(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    return line ? Number(line.split(/\s+/)[3]) : undefined;
  } catch {
    return undefined;
  }
}

describe('server --workers 2: /v1/metrics', () => {
  let dir: string;
  let port: number;
  let server: RunningProcess;
  let admin: DevCredentialsFile;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-workers-metrics-'));
    port = await freePort();
    server = await spawnServer(['--dev', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--workers', '2']);
    admin = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8')) as DevCredentialsFile;
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every scrape for both workers: one series per served certificate at its notAfter, process metrics summed', async () => {
    const ca = await readFile(admin.caCertFile);
    const served = new Map(await Promise.all(Array.from({ length: 6 }, () => servedCertificate(port, ca))));
    const caCertificate = parseSamples((await restClient(admin)('GET', '/v1/metrics')).body as string).filter((s) => s.name === EXPIRY && s.labels.certificate === 'ca');
    expect(caCertificate).toHaveLength(1);
    const limit = maxOpenFiles();

    for (let i = 0; i < 6; i++) {
      const res = await restClient(admin)('GET', '/v1/metrics', undefined, CLOSE);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const samples = parseSamples(res.body as string);
      const servers = samplesOf(samples, EXPIRY, { certificate: 'server' });
      expect(new Map(servers.map((s) => [s.labels.serial!, s.value]))).toEqual(served);
      expect(servers).toHaveLength(served.size);
      expect(samplesOf(samples, EXPIRY, { certificate: 'ca' })).toEqual(caCertificate);
      expect(samplesOf(samples, 'datadefender_sealed').map((s) => s.value)).toEqual([0]);
      expect(samplesOf(samples, 'datadefender_audit_available').map((s) => s.value)).toEqual([1]);
      expect(samplesOf(samples, 'datadefender_nodejs_version_info')).toHaveLength(1);
      if (limit !== undefined) expect(samplesOf(samples, 'datadefender_process_max_fds').map((s) => s.value)).toEqual([2 * limit]);
    }
    expect(served.size).toBe(2); // each worker serves a certificate of its own (README: Transport security, Limits)
  });

  it('audits each scrape once, in the worker that answered it', async () => {
    const res = await restClient(admin)('GET', '/v1/metrics', undefined, CLOSE);
    const requestId = res.headers['x-request-id'] as string;
    const { events } = (await restClient(admin)('GET', `/v1/audit/events?eventName=GetMetrics&requestId=${requestId}`, undefined, CLOSE)).body as { events: unknown[] };
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ eventName: 'GetMetrics', outcome: 'success' });
  });
});

describe('server --workers 2, sealed: /v1/metrics', () => {
  let dir: string;
  let server: RunningProcess;
  let admin: DevCredentialsFile;
  const credentials = () => join(dir, 'data', 'admin-credentials.json');
  const sealedFlags = async () =>
    Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await restClient(admin)('GET', '/v1/metrics', undefined, CLOSE);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return samplesOf(parseSamples(res.body as string), 'datadefender_sealed').map((s) => s.value);
      }),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-workers-metrics-sealed-'));
    await mkdir(join(dir, 'shares'));
    const port = await freePort();
    const init = await runCli(['operator', 'init', '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--shares', '1', '--threshold', '1', '--share-dir', join(dir, 'shares')]);
    expect(init.code, init.stderr).toBe(0);
    admin = JSON.parse(await readFile(credentials(), 'utf8')) as DevCredentialsFile;
    server = await spawnServer(['--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--workers', '2']);
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers while sealed with datadefender_sealed 1, and 0 once unsealed', async () => {
    expect(await sealedFlags()).toEqual(Array(4).fill([1]));
    const unseal = await runCli(['operator', 'unseal', '--credentials', credentials(), '--share-file', join(dir, 'shares', 'unseal-share-1.txt')]);
    expect(unseal.stdout, unseal.stderr).toMatch(/Unsealed/);
    expect(await sealedFlags()).toEqual(Array(4).fill([0]));
  });
});
