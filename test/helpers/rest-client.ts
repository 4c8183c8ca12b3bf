import { request } from 'node:https';
import { readFileSync } from 'node:fs';

export type { DevCredentials as DevCredentialsFile } from '../../src/identity/dev-bootstrap.js';
import type { DevCredentials as DevCredentialsFile } from '../../src/identity/dev-bootstrap.js';

export interface RestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** A tiny HTTPS JSON client that verifies the server against the dev CA. */
export function restClient(creds: DevCredentialsFile, options: { token?: string | null } = {}) {
  const ca = readFileSync(creds.caCertFile);
  const token = options.token === undefined ? creds.token : options.token;
  return function call(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<RestResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, creds.endpoint),
        {
          method,
          ca,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            ...extraHeaders,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  };
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
