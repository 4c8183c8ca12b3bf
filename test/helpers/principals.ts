// Creates a principal through the native API (as an administrator would) and issues it an access key and a token.
import { expect } from 'vitest';
import { restClient, type DevCredentialsFile } from './rest-client.js';

export interface PrincipalOptions {
  roles?: string[];
  policies?: string[];
  tags?: Record<string, string>;
  kind?: 'user' | 'service';
}

/** Credentials (access key and bearer token) of a new principal `name` in the account of `admin`. */
export async function addPrincipal(admin: DevCredentialsFile, name: string, options: PrincipalOptions = {}): Promise<DevCredentialsFile> {
  const call = restClient(admin);
  const created = await call('POST', '/v1/principals', { name, ...options });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const key = await call('POST', `/v1/principals/${name}/access-keys`, {});
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  const token = await call('POST', `/v1/principals/${name}/tokens`, {});
  expect(token.status, JSON.stringify(token.body)).toBe(201);
  return {
    ...admin,
    accessKeyId: key.body.accessKey.accessKeyId,
    secretAccessKey: key.body.accessKey.secretAccessKey,
    token: token.body.token.token,
    principalArn: created.body.principal.arn,
  };
}
