/** Helpers for the transport-security tests: HTTPS requests with client certificates, and handshake outcomes. */
import { request } from 'node:https';
import { connect } from 'node:tls';

export interface TlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface ClientTls {
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** One HTTPS request on a fresh connection (no agent), with an optional client certificate. */
export function httpsCall(endpoint: string, tls: ClientTls, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<TlsResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, endpoint),
      {
        method,
        agent: false,
        servername: 'localhost',
        ...tls,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * A TLS handshake followed by one HTTP/1.1 request; resolves with the error code when the server refuses the
 * client (with TLS 1.3 the client learns of a refused certificate only when it reads: the server's alert).
 */
export function handshakeOutcome(port: number, tls: ClientTls, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<{ ok: boolean; code?: string; response?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', maxVersion, ...tls });
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.on('secureConnect', () => socket.write('GET /v1/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'));
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
    socket.on('close', () => resolve(data.startsWith('HTTP/1.1') ? { ok: true, response: data } : { ok: false, code: 'closed' }));
  });
}
