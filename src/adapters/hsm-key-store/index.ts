// The public face of the HSM key store adapters (custom key stores).
export { createPkcs11KeyStoreConnector, type Pkcs11KeyStoreOptions } from './pkcs11-key-store.js';
