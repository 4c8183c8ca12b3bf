// The public face of the pkcs11 root of trust.
export { openPkcs11RootOfTrust, type Pkcs11Health, type Pkcs11RootOfTrust } from './pkcs11-root-of-trust.js';
export { createPkcs11RootKey } from './create-root-key.js';
export type { Pkcs11RootOfTrustOptions, Pkcs11TokenOptions } from './pkcs11-options.js';
