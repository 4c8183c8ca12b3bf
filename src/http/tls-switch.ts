/**
 * Swaps the certificate, key and client trust (CAs, CRLs) of a running HTTPS listener without a restart.
 *
 * Invariants:
 * - `setSecureContext` changes the context of new handshakes only: connections already established keep theirs and
 *   are never closed, so a swap fails no request in flight or on a kept-alive connection.
 * - The whole TLS policy (tls.ts) is rebuilt from the same function for every swap: a swap can change material,
 *   never protocol versions, suites or options. The mutual-TLS mode is fixed for the listener's life.
 * - A swap that fails (unreadable certificate or key, mismatched pair) throws and leaves the old context serving.
 */
import type { Server } from 'node:https';
import { serverTlsOptions, type ServerTlsMaterial } from './tls.js';

export interface TlsSwitch {
  /** The material serving new handshakes. */
  current(): ServerTlsMaterial;
  /** Replaces parts of the material for new handshakes. @throws what node:tls throws on bad material */
  update(patch: Partial<Omit<ServerTlsMaterial, 'clientAuth'>>): void;
  /** How many swaps succeeded. */
  swaps(): number;
}

/** @throws TypeError when `server` is not a TLS server (Fastify types its server as plain HTTP). */
export function createTlsSwitch(server: object, initial: ServerTlsMaterial): TlsSwitch {
  if (typeof (server as Partial<Server>).setSecureContext !== 'function') throw new TypeError('not a TLS server');
  const tlsServer = server as Pick<Server, 'setSecureContext'>;
  let material = { ...initial };
  let count = 0;
  return {
    current: () => material,
    update(patch) {
      const next = { ...material, ...patch, clientAuth: material.clientAuth } as ServerTlsMaterial;
      tlsServer.setSecureContext(serverTlsOptions(next));
      material = next;
      count++;
    },
    swaps: () => count,
  };
}
