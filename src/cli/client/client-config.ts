/**
 * Where the CLI client finds its server, token and CA bundle.
 *
 * Each of endpoint, token and CA bundle is taken from the first of:
 *   1. the flag (`--endpoint`, `--token`, `--ca-bundle`),
 *   2. the environment (`DATADEFENDER_ENDPOINT`, `DATADEFENDER_TOKEN`, `DATADEFENDER_CA_BUNDLE`),
 *   3. a dev-credentials.json (`endpoint`, `token`, `caCertFile`): the one named by `--credentials` or
 *      `DATADEFENDER_CREDENTIALS`, else `./data/dev-credentials.json` under the working directory if it exists.
 *
 * Invariants:
 * - The implicit default file is consulted only when no endpoint is given by flag or environment: a token or CA
 *   from a local dev server is never sent to, or pinned for, a server the user named explicitly.
 *   A file named with `--credentials`/`DATADEFENDER_CREDENTIALS` is always a fallback, field by field.
 * - The endpoint must be an `https://` URL without user info, query or fragment: the token is never sent in clear.
 * - A relative `caCertFile` inside a credentials file is relative to that file's directory; relative flag and
 *   environment paths are relative to the working directory.
 *
 * `resolveClientSettings` is pure; `loadClientConfig` adds the file reads.
 */
import { dirname, resolve } from 'node:path';
import { CliError, type CliIo } from './io.js';

/** The program-wide options of the client commands, as commander stores them. */
export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  caBundle?: string;
  credentials?: string;
  json?: boolean;
  /** Mutual TLS: the client certificate (PEM, from `datadefender pki issue --client`) and its key. */
  clientCert?: string;
  clientKey?: string;
}

/** The fields of a dev-credentials.json the CLI uses (the AWS fields are ignored). */
export interface CredentialsFile {
  endpoint?: string;
  token?: string;
  caCertFile?: string;
}

export type SettingSource = 'flag' | 'env' | 'credentials-file';

/** What the resolution decided, before the CA bundle is read. */
export interface ClientSettings {
  /** Normalised: no trailing slash. */
  endpoint: string;
  /** Absent only for anonymous calls (the public operator endpoints) when none is configured. */
  token?: string;
  /** Absolute path of the CA bundle, when one is configured. */
  caFile?: string;
  sources: { endpoint: SettingSource; token?: SettingSource; caFile?: SettingSource };
}

/** Everything the HTTP client needs. */
export interface ClientConfig {
  endpoint: string;
  /** Absent only for anonymous calls: no Authorization header is sent. */
  token?: string;
  /** PEM CA certificate(s); when present they replace the system trust store for this connection. */
  ca?: Buffer;
  /** Mutual TLS: client certificate and key (PEM); the certificate authenticates when no token is sent. */
  clientCertificate?: { cert: Buffer; key: Buffer };
}

export const ENV = {
  endpoint: 'DATADEFENDER_ENDPOINT',
  token: 'DATADEFENDER_TOKEN',
  caBundle: 'DATADEFENDER_CA_BUNDLE',
  credentials: 'DATADEFENDER_CREDENTIALS',
  clientCert: 'DATADEFENDER_CLIENT_CERT',
  clientKey: 'DATADEFENDER_CLIENT_KEY',
} as const;

/** Where the dev server writes its credentials by default (`npm start` uses `--data-dir ./data`). */
export const DEFAULT_CREDENTIALS_FILE = 'data/dev-credentials.json';

/** A credentials file as read: its parsed fields and the absolute path it came from. */
export interface LoadedCredentials {
  path: string;
  fields: CredentialsFile;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/**
 * The credentials file to read, if any: `explicit` when named by flag or environment; otherwise the default file,
 * but only when the endpoint is not already given by flag or environment (see the module invariants).
 */
export function credentialsFileToRead(flags: GlobalOptions, io: Pick<CliIo, 'env' | 'cwd'>): { path: string; explicit: boolean } | undefined {
  const named = nonEmpty(flags.credentials) ?? nonEmpty(io.env[ENV.credentials]);
  if (named !== undefined) return { path: resolve(io.cwd, named), explicit: true };
  if (nonEmpty(flags.endpoint) ?? nonEmpty(io.env[ENV.endpoint])) return undefined;
  return { path: resolve(io.cwd, DEFAULT_CREDENTIALS_FILE), explicit: false };
}

/**
 * Decides endpoint, token and CA file from flags, environment and an already read credentials file.
 * @throws CliError when the endpoint or token is missing (naming the flag and variable to set) or the endpoint is
 * not a plain https:// URL, or the token has characters that cannot go in an HTTP header.
 */
export function resolveClientSettings(
  flags: GlobalOptions,
  io: Pick<CliIo, 'env' | 'cwd'>,
  file?: LoadedCredentials,
  options: { anonymous?: boolean } = {},
): ClientSettings {
  const pick = (flag: string | undefined, env: string | undefined, fromFile: string | undefined) => {
    if (nonEmpty(flag) !== undefined) return { value: flag!, source: 'flag' as const };
    if (nonEmpty(env) !== undefined) return { value: env!, source: 'env' as const };
    if (nonEmpty(fromFile) !== undefined) return { value: fromFile!, source: 'credentials-file' as const };
    return undefined;
  };
  const fileHint = file ? ` (${file.path} has none)` : '';
  const endpoint = pick(flags.endpoint, io.env[ENV.endpoint], file?.fields.endpoint);
  if (!endpoint) {
    throw new CliError(
      `No server endpoint: pass --endpoint <url>, set ${ENV.endpoint}, or point --credentials (${ENV.credentials}) at a dev-credentials.json${fileHint}.`,
    );
  }
  const token = pick(flags.token, io.env[ENV.token], file?.fields.token);
  if (!token && !options.anonymous) {
    throw new CliError(
      `No access token: pass --token <token>, set ${ENV.token}, or point --credentials (${ENV.credentials}) at a dev-credentials.json${fileHint}.`,
    );
  }
  // Header-safe visible ASCII only; this also keeps CR/LF out of the Authorization header.
  if (token && !/^[\x21-\x7e]+$/.test(token.value)) throw new CliError(`The token (from ${describeSource(token.source)}) contains spaces or non-ASCII characters.`);

  const ca = pick(flags.caBundle, io.env[ENV.caBundle], file?.fields.caCertFile);
  const caFile = ca === undefined ? undefined : resolve(ca.source === 'credentials-file' ? dirname(file!.path) : io.cwd, ca.value);
  return {
    endpoint: normaliseEndpoint(endpoint.value, endpoint.source),
    ...(token ? { token: token.value } : {}),
    ...(caFile === undefined ? {} : { caFile }),
    sources: { endpoint: endpoint.source, ...(token ? { token: token.source } : {}), ...(ca ? { caFile: ca.source } : {}) },
  };
}

function describeSource(source: SettingSource): string {
  return source === 'flag' ? 'the command line' : source === 'env' ? 'the environment' : 'the credentials file';
}

/** @throws CliError unless `value` is an https:// URL with no user info, query or fragment. */
export function normaliseEndpoint(value: string, source: SettingSource = 'flag'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`The endpoint "${value}" (from ${describeSource(source)}) is not a URL; expected https://host:port.`);
  }
  if (url.protocol !== 'https:') throw new CliError(`The endpoint "${value}" (from ${describeSource(source)}) must use https://; the token is never sent in clear.`);
  if (url.username || url.password) throw new CliError(`The endpoint (from ${describeSource(source)}) must not contain a user name or password.`);
  if (url.search || url.hash) throw new CliError(`The endpoint "${value}" (from ${describeSource(source)}) must not have a query or fragment.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Parses the text of a dev-credentials.json, keeping the fields the CLI uses.
 * @throws CliError when it is not a JSON object or a used field is not a string.
 */
export function parseCredentialsFile(text: string, path: string): CredentialsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`The credentials file ${path} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`The credentials file ${path} is not a JSON object.`);
  const fields: CredentialsFile = {};
  for (const name of ['endpoint', 'token', 'caCertFile'] as const) {
    const value = (parsed as Record<string, unknown>)[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new CliError(`The credentials file ${path}: "${name}" must be a string.`);
    fields[name] = value;
  }
  return fields;
}

const isMissing = (err: unknown) => typeof err === 'object' && err !== null && ((err as { code?: unknown }).code === 'ENOENT' || (err as { code?: unknown }).code === 'ENOTDIR');

const reason = (err: unknown) =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : err instanceof Error ? err.message : String(err);

/**
 * Resolves the client configuration and reads the CA bundle.
 * @throws CliError as {@link resolveClientSettings}, and when a named credentials file or the CA bundle cannot be
 * read. A missing default credentials file is not an error.
 */
export async function loadClientConfig(flags: GlobalOptions, io: CliIo, options: { anonymous?: boolean } = {}): Promise<ClientConfig> {
  const certFile = nonEmpty(flags.clientCert) ?? nonEmpty(io.env[ENV.clientCert]);
  const keyFile = nonEmpty(flags.clientKey) ?? nonEmpty(io.env[ENV.clientKey]);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new CliError(`Give the client certificate and its key together (--client-cert and --client-key, or ${ENV.clientCert} and ${ENV.clientKey}).`);
  let clientCertificate: ClientConfig['clientCertificate'];
  if (certFile !== undefined && keyFile !== undefined) {
    const read = async (file: string, what: string) => {
      try {
        return await io.readFile(resolve(io.cwd, file));
      } catch (err) {
        throw new CliError(`Cannot read the client ${what} ${resolve(io.cwd, file)}: ${reason(err)}.`, { cause: err });
      }
    };
    clientCertificate = { cert: await read(certFile, 'certificate'), key: await read(keyFile, 'key') };
    // The certificate authenticates the caller: no token is needed.
    options = { ...options, anonymous: true };
  }
  const target = credentialsFileToRead(flags, io);
  let file: LoadedCredentials | undefined;
  if (target) {
    try {
      file = { path: target.path, fields: parseCredentialsFile((await io.readFile(target.path)).toString('utf8'), target.path) };
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (target.explicit || !isMissing(err)) throw new CliError(`Cannot read the credentials file ${target.path}: ${reason(err)}.`, { cause: err });
    }
  }
  const settings = resolveClientSettings(flags, io, file, options);
  let ca: Buffer | undefined;
  if (settings.caFile !== undefined) {
    try {
      ca = await io.readFile(settings.caFile);
    } catch (err) {
      throw new CliError(`Cannot read the CA bundle ${settings.caFile}: ${reason(err)}.`, { cause: err });
    }
    if (!ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`The CA bundle ${settings.caFile} holds no PEM certificate.`);
  }
  return { endpoint: settings.endpoint, ...(settings.token ? { token: settings.token } : {}), ...(ca ? { ca } : {}), ...(clientCertificate ? { clientCertificate } : {}) };
}
