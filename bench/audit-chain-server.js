// Bench-only entry point (never reachable from the datadefender command or its configuration): composes the dev
// server exactly as src/main.ts does, except for where audit events go: the real trail (`trail`: durable
// group-committed appends to SQLite) or an in-memory sink (`memory`: events kept in an array and dropped). Both run
// the same audit runtime: keyed hashes of sensitive values, the hash chain, signed checkpoints.
// Usage: node bench/audit-chain-server.js <dataDir> <port> trail|memory
import { mkdir } from 'node:fs/promises';
import { openSqliteStorage } from '../dist/adapters/storage/sqlite/index.js';
import { startAuditRuntime } from '../dist/audit/audit-runtime.js';
import { dataPaths, loadServerConfig } from '../dist/config/config.js';
import { createKeyService } from '../dist/core/key-service.js';
import { createRootOperations } from '../dist/core/root-operations.js';
import { createHttpServer } from '../dist/http/server.js';
import { createBearerAuthenticator } from '../dist/identity/bearer-authenticator.js';
import { createCallerDirectory } from '../dist/identity/caller-directory.js';
import { ensureDevCredentials } from '../dist/identity/dev-bootstrap.js';
import { createIdentityService } from '../dist/identity/identity-service.js';
import { createSigV4Authenticator } from '../dist/identity/sigv4-authenticator.js';
import { createLogger, openConfiguredRoot } from '../dist/main.js';
import { ensureDevCertificates } from '../dist/pki/dev-ca.js';
import { createPolicyEngine } from '../dist/policy/policy-engine.js';
import { systemClock } from '../dist/ports/clock.js';
import { awsKmsApi } from '../dist/protocols/aws-kms/aws-kms-api.js';
import { restApi } from '../dist/protocols/rest/rest-api.js';
import { readFile } from 'node:fs/promises';

const [dataDir, port, mode] = process.argv.slice(2);
if (!['trail', 'memory'].includes(mode)) throw new Error('usage: audit-chain-server.js <dataDir> <port> trail|memory');
const config = loadServerConfig({ dev: true, dataDir, listen: `127.0.0.1:${port}` }, {});
const logger = createLogger('warn');
const paths = dataPaths(config);
await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
const { root } = await openConfiguredRoot(config);
const storage = await openSqliteStorage({ file: paths.sqliteFile });
// Both modes run the same audit runtime (keyed hashes, hash chain, signed checkpoints); only the sink of the events
// differs: durable group-committed appends to SQLite (`trail`) or an array that is dropped (`memory`).
let kept = [];
const memorySink = { append: async (events) => { kept.push(...events); if (kept.length > 100_000) kept = []; } };
const runtime = startAuditRuntime({ store: mode === 'trail' ? storage : { ...storage, ...memorySink, orderedAppends: false }, root, clock: systemClock, sealed: () => false, checkpointEvents: config.auditCheckpointEvents, checkpointSeconds: config.auditCheckpointSeconds });
await runtime.ready();
const audit = runtime.log;
const scope = { region: config.region, accountId: config.accountId };
const dualControl = { enabled: false, operations: config.dualControlOperations, approvalTtlSeconds: config.approvalTtlSeconds };
const service = createKeyService({ storage, root, audit, auditKeys: runtime.keyring, policies: createPolicyEngine(), clock: systemClock, scope, sealed: () => false, settings: { ...config, dualControl } });
const identity = createIdentityService({ storage, run: service.run, clock: systemClock, scope, root });
const callers = createCallerDirectory({ storage });
const rootOperations = createRootOperations({ run: service.run, root, forgetMaterial: service.materialCache.clear });
const dev = await ensureDevCertificates(paths.tlsDir, { hosts: [config.host] });
const app = createHttpServer({ tls: { certPem: dev.certPem, keyPem: dev.keyPem, caCertFile: dev.caCertFile, caPem: await readFile(dev.caCertFile, 'utf8') }, logger });
const health = async () => ({ status: 'ok', version: 'bench', storage: storage.kind, rootOfTrust: root.kind, root: 'ok', audit: audit.healthy() ? 'ok' : 'unavailable' });
await app.register(restApi, { service, identity, root: rootOperations, authenticate: createBearerAuthenticator({ storage, callers, clock: systemClock }), health });
await app.register(awsKmsApi, { service, authenticate: createSigV4Authenticator({ storage, callers, root, clock: systemClock, region: config.region }) });
await app.listen({ host: config.host, port: config.port });
const endpoint = `https://${config.host}:${config.port}`;
await ensureDevCredentials({ storage, root, scope, now: systemClock.now(), file: paths.devCredentialsFile, endpoint, caCertFile: dev.caCertFile });
console.log(`bench server ready (${mode}) on ${endpoint}`);
process.on('SIGTERM', async () => {
  await app.close();
  await runtime.close();
  await storage.close();
  process.exit(0);
});
