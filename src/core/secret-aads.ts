/**
 * The associated data of secrets wrapped by the root of trust outside the key service: the built-in CA's private
 * key. Kept in core so the root re-wrap job (core/root-rewrap.ts) and the PKI (pki/ca-key.ts) use the same bytes.
 */

/** The AAD a CA's private key is wrapped with, binding it to the CA's id. */
export const caKeyAad = (caId: string): Uint8Array => new TextEncoder().encode(`datadefender/pki/ca-key/v1\0${caId}`);
