/**
 * Where the CLI finds its server and credentials. Each of endpoint, token and CA bundle comes from, in order:
 * the flag, the environment (DATADEFENDER_ENDPOINT, DATADEFENDER_TOKEN, DATADEFENDER_CA_BUNDLE), the credentials
 * file (--credentials, DATADEFENDER_CREDENTIALS, else ./data/dev-credentials.json when it exists).
 */
import { join, resolve } from 'node:path';
import { CliError, type CliIo } from './io.js';

export interface GlobalFlags {
  endpoint?: string;
  token?: string;
  caBundle?: string;
  credentials?: string;
  json?: boolean;
}

export interface ClientConfig {
  endpoint: string;
  token: string;
  ca?: Buffer;
}

interface CredentialsFile {
  endpoint?: string;
  token?: string;
  caCertFile?: string;
}

async function readCredentials(io: CliIo, flags: GlobalFlags): Promise<CredentialsFile> {
  const explicit = flags.credentials ?? io.env.DATADEFENDER_CREDENTIALS;
  const file = resolve(io.cwd, explicit ?? join('data', 'dev-credentials.json'));
  let text: string;
  try {
    text = (await io.readFile(file)).toString('utf8');
  } catch {
    if (explicit) throw new CliError(`cannot read the credentials file ${file}`);
    return {};
  }
  try {
    return JSON.parse(text) as CredentialsFile;
  } catch {
    throw new CliError(`the credentials file ${file} is not valid JSON`);
  }
}

/** @throws CliError naming the flag or variable to set when something is missing. */
export async function resolveClientConfig(io: CliIo, flags: GlobalFlags): Promise<ClientConfig> {
  const file = await readCredentials(io, flags);
  const endpoint = flags.endpoint ?? io.env.DATADEFENDER_ENDPOINT ?? file.endpoint;
  const token = flags.token ?? io.env.DATADEFENDER_TOKEN ?? file.token;
  const caFile = flags.caBundle ?? io.env.DATADEFENDER_CA_BUNDLE ?? file.caCertFile;
  if (!endpoint) throw new CliError('no server endpoint: pass --endpoint or set DATADEFENDER_ENDPOINT (or --credentials FILE)');
  if (!token) throw new CliError('no token: pass --token or set DATADEFENDER_TOKEN (or --credentials FILE)');
  if (!/^https:\/\//.test(endpoint)) throw new CliError(`the endpoint must be an https:// URL, not ${endpoint}`);
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = await io.readFile(resolve(io.cwd, caFile));
    } catch {
      throw new CliError(`cannot read the CA bundle ${caFile}`);
    }
  }
  return { endpoint, token, ...(ca ? { ca } : {}) };
}
