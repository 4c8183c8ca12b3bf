import { readFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { SignatureV4 } from '@smithy/signature-v4';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { Agent } from 'node:https';
const dir = process.argv[2]; const secs = Number(process.argv[3] ?? 8);
const c = JSON.parse(readFileSync(dir + '/dev-credentials.json', 'utf8'));
const kms = new KMSClient({ endpoint: c.endpoint, region: c.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, requestHandler: { httpsAgent: new Agent({ ca: readFileSync(c.caCertFile) }) } });
const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata.KeyId;
class Sha256 { constructor(s) { this.h = s === undefined ? createHash('sha256') : createHmac('sha256', s); } update(d) { this.h.update(d); } async digest() { return new Uint8Array(this.h.digest()); } }
const body = JSON.stringify({ KeyId: key, Plaintext: Buffer.alloc(1024, 7).toString('base64'), EncryptionContext: { tenant: 'bench' } });
const url = new URL(c.endpoint);
const signer = new SignatureV4({ service: 'kms', region: c.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, sha256: Sha256 });
const s = await signer.sign({ method: 'POST', protocol: 'https:', hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' }, body });
autocannon({ url: c.endpoint + '/', method: 'POST', body, headers: s.headers, connections: 32, duration: secs }, (e, r) => { console.log(e ?? { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx }); kms.destroy(); });
