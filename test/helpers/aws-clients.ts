// AWS-side test clients: the official @aws-sdk/client-kms pointed at a dev server, and raw requests signed by the
// official SigV4 signer (@smithy/signature-v4) for protocol cases the SDK cannot produce.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { startDevServer, type DevServer } from './dev-server.js';
import type { DevCredentialsFile } from './rest-client.js';

export function kmsClient(c: DevCredentialsFile, overrides: { accessKeyId?: string; secretAccessKey?: string } = {}): KMSClient {
  return new KMSClient({
    endpoint: c.endpoint,
    region: c.region,
    maxAttempts: 1,
    credentials: { accessKeyId: overrides.accessKeyId ?? c.accessKeyId, secretAccessKey: overrides.secretAccessKey ?? c.secretAccessKey },
    requestHandler: { httpsAgent: new Agent({ ca: readFileSync(c.caCertFile) }) },
  });
}

const bytes = (d: Uint8Array | string | ArrayBuffer | ArrayBufferView): Uint8Array | string =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** node:crypto SHA-256 / HMAC-SHA-256 in the Checksum shape the signer expects. */
class Sha256 {
  readonly #hash;
  constructor(secret?: Uint8Array | string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Uint8Array | string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { __type?: string; message?: string; [k: string]: unknown };
}

export interface RawRequest {
  target?: string;
  body: string;
  /** Signing time (default now). */
  signingDate?: Date;
  /** Headers added after signing (they are not signed). */
  afterSigning?: Record<string, string>;
  /** Replaces the body after signing. */
  tamperedBody?: string;
  /** Drops these headers after signing. */
  drop?: string[];
  secretAccessKey?: string;
  accessKeyId?: string;
  region?: string;
}

/** Sends one `POST /` signed with the official SigV4 signer, with optional tampering. */
export async function rawAwsRequest(c: DevCredentialsFile, r: RawRequest): Promise<RawResponse> {
  const url = new URL(c.endpoint);
  const signer = new SignatureV4({
    service: 'kms',
    region: r.region ?? c.region,
    credentials: { accessKeyId: r.accessKeyId ?? c.accessKeyId, secretAccessKey: r.secretAccessKey ?? c.secretAccessKey },
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.host, 'content-type': 'application/x-amz-json-1.1' };
  if (r.target !== undefined) headers['x-amz-target'] = r.target;
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: url.hostname, port: Number(url.port), path: '/', headers, body: r.body },
    { signingDate: r.signingDate ?? new Date() },
  );
  const finalHeaders: Record<string, string> = { ...(signed.headers as Record<string, string>), ...r.afterSigning };
  for (const name of r.drop ?? []) {
    for (const key of Object.keys(finalHeaders)) if (key.toLowerCase() === name) delete finalHeaders[key];
  }
  const body = r.tamperedBody ?? r.body;
  finalHeaders['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', path: '/', headers: finalHeaders, ca: readFileSync(c.caCertFile) }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as RawResponse['body']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The AWS error name, HTTP status and message a call rejects with; fails the test if it succeeds. */
export async function awsError(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

export interface AwsDevServer {
  dir: string;
  server: DevServer;
  /** An SDK client for the server's administrator. */
  kms: KMSClient;
  stop(): Promise<void>;
}

/** A dev server in a fresh data directory (as a separate process) and an administrator's SDK client for it. */
export async function startAwsDevServer(prefix: string): Promise<AwsDevServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const server = await startDevServer(dir);
  const kms = kmsClient(server.credentials);
  return {
    dir,
    server,
    kms,
    async stop() {
      kms.destroy();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A second DataDefender (dev mode) as an upstream AWS-KMS-compatible service with one new key, and the environment
 * that roots another server in that key (aws-kms root; credentials through the standard AWS chain).
 */
export async function startUpstreamKms(dataDir: string, description: string): Promise<{ upstream: DevServer; keyArn: string; env: Record<string, string> }> {
  const upstream = await startDevServer(dataDir);
  const keyArn = (await kmsClient(upstream.credentials).send(new CreateKeyCommand({ Description: description }))).KeyMetadata!.Arn!;
  const env = {
    DATADEFENDER_AWS_KMS_KEY_ID: keyArn,
    DATADEFENDER_AWS_KMS_ENDPOINT: upstream.credentials.endpoint,
    DATADEFENDER_AWS_KMS_CA_FILE: upstream.credentials.caCertFile,
    AWS_ACCESS_KEY_ID: upstream.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: upstream.credentials.secretAccessKey,
  };
  return { upstream, keyArn, env };
}
