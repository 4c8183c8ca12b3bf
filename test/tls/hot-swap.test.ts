/**
 * Server certificate renewal without downtime, on the real server (dist/): with a 30-second certificate lifetime the
 * built-in CA renews at two thirds (about 20 s) and the listener swaps it in (setSecureContext). Under continuous
 * load — requests on kept-alive connections and on fresh connections, each verifying the chain — no request fails,
 * a connection opened before the swap keeps serving after it, new handshakes see the new certificate, and
 * `pki status` shows it with its renewal time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

interface Outcome {
  ok: boolean;
  serial?: string;
  socket?: TLSSocket;
  error?: string;
}

function call(endpoint: string, ca: string, token: string, agent: Agent | false, body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(new URL('/v1/encrypt', endpoint), {
      method: 'POST',
      agent,
      ca,
      servername: 'localhost',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 10_000,
    }, (res) => {
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber?.toLowerCase();
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? { ok: true, serial, socket } : { ok: false, error: `HTTP ${res.statusCode}` }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ ok: false, error: err.message }));
    req.end(body);
  });
}

describe('server certificate hot swap', () => {
  let dir: string;
  let server: DevServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-swap-'));
    server = await startDevServer(dir, { env: { DATADEFENDER_TLS_CERTIFICATE_LIFETIME_SECONDS: '30' } });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('renews at two thirds of the lifetime under load with no failed request', async () => {
    const { endpoint, token } = server.credentials;
    const ca = await readFile(server.credentials.caCertFile, 'utf8');
    const keyResponse = await new Promise<string>((resolve, reject) => {
      const req = request(new URL('/v1/keys', endpoint), { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end('{"description":"swap"}');
    });
    const keyId = JSON.parse(keyResponse).key.keyId as string;
    const body = JSON.stringify({ keyId, plaintext: Buffer.from('hot swap').toString('base64') });

    const longLived = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await call(endpoint, ca, token, longLived, body);
    expect(first.ok).toBe(true);
    const firstSerial = first.serial!;
    const firstSocket = first.socket!;

    const failures: string[] = [];
    const freshSerials = new Set<string>();
    let requests = 0;
    const deadline = Date.now() + 26_000;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const worker = async (agent: Agent | false) => {
      while (Date.now() < deadline) {
        const outcome = await call(endpoint, ca, token, agent, body);
        requests++;
        if (!outcome.ok) failures.push(outcome.error!);
        else if (agent === false) freshSerials.add(outcome.serial!);
      }
    };
    await Promise.all([worker(keepAlive), worker(keepAlive), worker(keepAlive), worker(false), worker(false)]);

    // The connection opened before the swap is still the same socket and still serves, with the old certificate.
    const after = await call(endpoint, ca, token, longLived, body);
    expect(after.ok).toBe(true);
    expect(after.socket).toBe(firstSocket);
    expect(after.serial).toBe(firstSerial);

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    expect(freshSerials.size, 'new handshakes saw the renewed certificate').toBeGreaterThanOrEqual(2);

    const status = await new Promise<any>((resolve, reject) => {
      const req = request(new URL('/v1/pki/status', endpoint), { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status.serverCertificate.serial).not.toBe(firstSerial);
    expect(status.serverCertificate.source).toBe('built-in');
    expect(Date.parse(status.serverCertificate.renewAt)).toBeLessThan(Date.parse(status.serverCertificate.notAfter));
    expect(status.certificates.filter((c: { profile: string }) => c.profile === 'server').length).toBeGreaterThanOrEqual(2);
    longLived.destroy();
    keepAlive.destroy();
  }, 60_000);
});
