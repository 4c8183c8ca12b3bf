/**
 * The one door to @peculiar/x509 inside pki/.
 *
 * Invariants:
 * - The reflect-metadata polyfill (which tsyringe, inside @peculiar/x509, needs at load time) is evaluated before the library loads (ES modules evaluate their imports in source
 *   order), so every pki module imports X.509 classes from here, never from '@peculiar/x509' directly.
 * - The library signs with `globalThis.crypto` (Node's WebCrypto); no other crypto provider is configured globally.
 *   A CA key in an HSM is used by passing its WebCrypto (hsm-signing-key.ts) as a generator's `crypto` argument.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
