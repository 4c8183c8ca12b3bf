// The AWS Signature Version 4 signing key. Spec: AWS General Reference, "Derive a signing key for SigV4":
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
// Invariants: the intermediate keys and the "AWS4"+secret buffer are zeroed; the result is a SecretBytes.
import { hmac } from './hmac.js';
import { SecretBytes } from './secret-bytes.js';

/** The SigV4 signing key for one secret access key, day (yyyymmdd), region and service. Throws nothing. */
export function deriveSigV4SigningKey(secret: SecretBytes, date: string, region: string, service: string): SecretBytes {
  let key: Buffer = Buffer.concat([Buffer.from('AWS4', 'utf8'), secret.reveal()]);
  for (const part of [date, region, service, 'aws4_request']) {
    const next = hmac('sha256', key, Buffer.from(part, 'utf8'));
    key.fill(0);
    key = next;
  }
  return SecretBytes.adopt(key);
}
