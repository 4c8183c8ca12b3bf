/**
 * Authenticates native-API requests by bearer token.
 * Invariants: the token is looked up by its hash only; unknown, expired or malformed tokens and disabled
 * principals all fail with the same UnauthenticatedError text, so the answer reveals nothing.
 */
import { UnauthenticatedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { Storage } from '../ports/storage.js';
import type { Caller } from '../policy/authorize.js';
import { hashToken } from './credentials.js';

const TOKEN = /^Bearer (ddt_[A-Za-z0-9_-]{43})$/;

export type BearerAuthenticator = (authorization: string | undefined) => Promise<Caller>;

export function createBearerAuthenticator(deps: { storage: Storage; clock: Clock }): BearerAuthenticator {
  const { storage, clock } = deps;
  const refuse = () => new UnauthenticatedError('A valid bearer token is required.');
  return async (authorization) => {
    const match = authorization === undefined ? null : TOKEN.exec(authorization);
    if (!match) throw refuse();
    const token = await storage.getToken(hashToken(match[1]!));
    if (!token || (token.expiresAt !== null && token.expiresAt <= clock.now())) throw refuse();
    const principal = await storage.getPrincipal(token.principalId);
    if (!principal || principal.disabled) throw refuse();
    return { principalId: principal.id, arn: principal.arn, roles: principal.roles, credential: `token:${token.accessor}` };
  };
}
