import { describe, expect, it } from 'vitest';
import {
  credentialsFileToRead,
  loadClientConfig,
  normaliseEndpoint,
  parseCredentialsFile,
  resolveClientSettings,
  type GlobalOptions,
} from '../../src/cli/client/client-config.js';
import { CliError, type CliIo } from '../../src/cli/client/io.js';

const CWD = '/home/me/project';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function fakeIo(env: Record<string, string> = {}, files: Record<string, string> = {}): CliIo & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    stdout: () => undefined,
    stderr: () => undefined,
    env,
    cwd: CWD,
    readStdin: async () => '',
    writeSecretFile: async () => {
      throw new Error('not expected');
    },
    readFile: async (path) => {
      reads.push(path);
      const content = files[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return Buffer.from(content);
    },
  };
}

const file = (fields: Record<string, unknown>) => JSON.stringify({ region: 'us-east-1', accessKeyId: 'AKIA', secretAccessKey: 's', ...fields });

describe('resolveClientSettings (pure)', () => {
  const creds = { path: '/creds/dev-credentials.json', fields: { endpoint: 'https://file:1', token: 'file-token', caCertFile: 'ca.pem' } };
  const env = { DATADEFENDER_ENDPOINT: 'https://env:2', DATADEFENDER_TOKEN: 'env-token', DATADEFENDER_CA_BUNDLE: 'env-ca.pem' };
  const flags: GlobalOptions = { endpoint: 'https://flag:3', token: 'flag-token', caBundle: 'flag-ca.pem' };

  it('prefers flags over the environment over the credentials file, field by field', () => {
    expect(resolveClientSettings(flags, { env, cwd: CWD }, creds)).toEqual({
      endpoint: 'https://flag:3',
      token: 'flag-token',
      caFile: `${CWD}/flag-ca.pem`,
      sources: { endpoint: 'flag', token: 'flag', caFile: 'flag' },
    });
    expect(resolveClientSettings({}, { env, cwd: CWD }, creds)).toEqual({
      endpoint: 'https://env:2',
      token: 'env-token',
      caFile: `${CWD}/env-ca.pem`,
      sources: { endpoint: 'env', token: 'env', caFile: 'env' },
    });
    expect(resolveClientSettings({ token: 'flag-token' }, { env: { DATADEFENDER_ENDPOINT: 'https://env:2' }, cwd: CWD }, creds)).toEqual({
      endpoint: 'https://env:2',
      token: 'flag-token',
      caFile: '/creds/ca.pem',
      sources: { endpoint: 'env', token: 'flag', caFile: 'credentials-file' },
    });
  });

  it('resolves a relative caCertFile against the credentials file directory, keeps an absolute one', () => {
    expect(resolveClientSettings({}, { env: {}, cwd: CWD }, creds).caFile).toBe('/creds/ca.pem');
    const abs = { ...creds, fields: { ...creds.fields, caCertFile: '/pki/ca.pem' } };
    expect(resolveClientSettings({}, { env: {}, cwd: CWD }, abs).caFile).toBe('/pki/ca.pem');
  });

  it('treats empty values as absent', () => {
    const s = resolveClientSettings({ endpoint: '' }, { env: { DATADEFENDER_ENDPOINT: '', DATADEFENDER_TOKEN: 't' }, cwd: CWD }, creds);
    expect(s.endpoint).toBe('https://file:1');
    expect(s.sources.endpoint).toBe('credentials-file');
  });

  it('has no CA file when none is configured (system trust store)', () => {
    const s = resolveClientSettings({ endpoint: 'https://h', token: 't' }, { env: {}, cwd: CWD });
    expect(s.caFile).toBeUndefined();
    expect(s.sources).toEqual({ endpoint: 'flag', token: 'flag' });
  });

  it('names the flag and the variable to set when the endpoint or token is missing', () => {
    expect(() => resolveClientSettings({ token: 't' }, { env: {}, cwd: CWD })).toThrow(CliError);
    expect(() => resolveClientSettings({ token: 't' }, { env: {}, cwd: CWD })).toThrow(/--endpoint <url>.*DATADEFENDER_ENDPOINT/);
    expect(() => resolveClientSettings({ endpoint: 'https://h' }, { env: {}, cwd: CWD })).toThrow(/--token <token>.*DATADEFENDER_TOKEN/);
    const noToken = { path: '/creds/x.json', fields: { endpoint: 'https://h' } };
    expect(() => resolveClientSettings({}, { env: {}, cwd: CWD }, noToken)).toThrow(/\/creds\/x\.json has none/);
  });

  it('refuses a token that cannot go in a header', () => {
    expect(() => resolveClientSettings({ endpoint: 'https://h', token: 'a b' }, { env: {}, cwd: CWD })).toThrow(/token/);
    expect(() => resolveClientSettings({ endpoint: 'https://h', token: 'a\r\nX-Evil: 1' }, { env: {}, cwd: CWD })).toThrow(/token/);
  });
});

describe('normaliseEndpoint', () => {
  it('accepts https URLs and drops trailing slashes', () => {
    expect(normaliseEndpoint('https://127.0.0.1:8443')).toBe('https://127.0.0.1:8443');
    expect(normaliseEndpoint('https://kms.example.com/')).toBe('https://kms.example.com');
    expect(normaliseEndpoint('https://gw.example.com/kms/')).toBe('https://gw.example.com/kms');
  });

  it('refuses anything that is not a plain https URL', () => {
    expect(() => normaliseEndpoint('http://127.0.0.1:8443')).toThrow(/https/);
    expect(() => normaliseEndpoint('127.0.0.1:8443')).toThrow();
    expect(() => normaliseEndpoint('not a url')).toThrow(/not a URL/);
    expect(() => normaliseEndpoint('https://user:pw@h')).toThrow(/user name or password/);
    expect(() => normaliseEndpoint('https://h/?x=1')).toThrow(/query/);
  });
});

describe('parseCredentialsFile', () => {
  it('keeps endpoint, token and caCertFile and ignores the AWS fields', () => {
    expect(parseCredentialsFile(file({ endpoint: 'https://h:1', token: 'ddt_x', caCertFile: '/ca.pem', accountId: '1' }), 'f')).toEqual({
      endpoint: 'https://h:1',
      token: 'ddt_x',
      caCertFile: '/ca.pem',
    });
  });

  it('rejects invalid JSON, non-objects and non-string fields', () => {
    expect(() => parseCredentialsFile('{', 'f.json')).toThrow(/f\.json is not valid JSON/);
    expect(() => parseCredentialsFile('[]', 'f.json')).toThrow(/not a JSON object/);
    expect(() => parseCredentialsFile('{"token": 5}', 'f.json')).toThrow(/"token" must be a string/);
  });
});

describe('credentialsFileToRead', () => {
  it('prefers --credentials, then DATADEFENDER_CREDENTIALS, then the default file under cwd', () => {
    expect(credentialsFileToRead({ credentials: 'a.json' }, { env: { DATADEFENDER_CREDENTIALS: '/b.json' }, cwd: CWD })).toEqual({
      path: `${CWD}/a.json`,
      explicit: true,
    });
    expect(credentialsFileToRead({}, { env: { DATADEFENDER_CREDENTIALS: '/b.json' }, cwd: CWD })).toEqual({ path: '/b.json', explicit: true });
    expect(credentialsFileToRead({}, { env: {}, cwd: CWD })).toEqual({ path: `${CWD}/data/dev-credentials.json`, explicit: false });
  });

  it('skips the default file when the endpoint is given explicitly', () => {
    expect(credentialsFileToRead({ endpoint: 'https://prod' }, { env: {}, cwd: CWD })).toBeUndefined();
    expect(credentialsFileToRead({}, { env: { DATADEFENDER_ENDPOINT: 'https://prod' }, cwd: CWD })).toBeUndefined();
    // A named file is still read: the user asked for it.
    expect(credentialsFileToRead({ endpoint: 'https://prod', credentials: 'c.json' }, { env: {}, cwd: CWD })?.explicit).toBe(true);
  });
});

describe('loadClientConfig', () => {
  it('uses the default ./data/dev-credentials.json when it exists and reads its CA', async () => {
    const io = fakeIo({}, {
      [`${CWD}/data/dev-credentials.json`]: file({ endpoint: 'https://127.0.0.1:8443', token: 'ddt_dev', caCertFile: 'tls/ca.pem' }),
      [`${CWD}/data/tls/ca.pem`]: PEM,
    });
    const config = await loadClientConfig({}, io);
    expect(config).toEqual({ endpoint: 'https://127.0.0.1:8443', token: 'ddt_dev', ca: Buffer.from(PEM) });
  });

  it('is fine without the default file when flags say everything', async () => {
    const io = fakeIo();
    expect(await loadClientConfig({ endpoint: 'https://h:1', token: 't' }, io)).toEqual({ endpoint: 'https://h:1', token: 't' });
    expect(io.reads).toEqual([]);
  });

  it('does not send the default file token to an endpoint given by flag', async () => {
    const io = fakeIo({}, { [`${CWD}/data/dev-credentials.json`]: file({ endpoint: 'https://dev', token: 'ddt_dev' }) });
    await expect(loadClientConfig({ endpoint: 'https://prod' }, io)).rejects.toThrow(/No access token/);
  });

  it('reports a missing default file as a missing endpoint', async () => {
    await expect(loadClientConfig({}, fakeIo())).rejects.toThrow(/No server endpoint: pass --endpoint/);
  });

  it('takes the file from DATADEFENDER_CREDENTIALS and lets flags and env override its fields', async () => {
    const io = fakeIo(
      { DATADEFENDER_CREDENTIALS: '/srv/dd/dev-credentials.json', DATADEFENDER_TOKEN: 'env-token' },
      { '/srv/dd/dev-credentials.json': file({ endpoint: 'https://file:1', token: 'file-token', caCertFile: '/srv/dd/ca.pem' }), '/srv/dd/ca.pem': PEM },
    );
    expect(await loadClientConfig({ endpoint: 'https://flag:2' }, io)).toEqual({ endpoint: 'https://flag:2', token: 'env-token', ca: Buffer.from(PEM) });
  });

  it('fails clearly when a named credentials file or the CA bundle cannot be read', async () => {
    await expect(loadClientConfig({ credentials: 'missing.json' }, fakeIo())).rejects.toThrow(`Cannot read the credentials file ${CWD}/missing.json: ENOENT.`);
    await expect(loadClientConfig({ endpoint: 'https://h', token: 't', caBundle: 'ca.pem' }, fakeIo())).rejects.toThrow(
      `Cannot read the CA bundle ${CWD}/ca.pem: ENOENT.`,
    );
    const notPem = fakeIo({}, { [`${CWD}/ca.pem`]: 'hello' });
    await expect(loadClientConfig({ endpoint: 'https://h', token: 't', caBundle: 'ca.pem' }, notPem)).rejects.toThrow(/no PEM certificate/);
  });

  it('reports a broken default file instead of ignoring it', async () => {
    const io = fakeIo({}, { [`${CWD}/data/dev-credentials.json`]: '{oops' });
    await expect(loadClientConfig({}, io)).rejects.toThrow(/is not valid JSON/);
  });
});
