/**
 * The CLI's HTTPS client for the native API. Server certificates are always verified (against the CA bundle
 * when one is configured); problem+json errors become CliErrors reading `<code>: <detail> (request <id>)`.
 */
import { request } from 'node:https';
import type { ClientConfig } from './client-config.js';
import { CliError } from './io.js';

export type ApiCall = (method: string, path: string, body?: unknown) => Promise<any>;

export function apiClient(config: ClientConfig): ApiCall {
  return (method, path, body) =>
    new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, config.endpoint),
        {
          method,
          ...(config.ca ? { ca: config.ca } : {}),
          headers: {
            authorization: `Bearer ${config.token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              return reject(new CliError(`unexpected answer from ${config.endpoint} (HTTP ${res.statusCode})`));
            }
            if ((res.statusCode ?? 500) < 300) return resolvePromise(parsed);
            const code = parsed?.code ?? `HTTP_${res.statusCode}`;
            reject(new CliError(`${code}: ${parsed?.detail ?? 'request failed'} (request ${parsed?.requestId ?? res.headers['x-request-id'] ?? '?'})`));
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(`cannot reach ${config.endpoint}: ${err.code ?? err.message}`)));
      req.end(payload);
    });
}
