// The cost of authorization per request: AWS-API Encrypt (SigV4, 1 KiB) by a principal under a realistic policy set
// against the same call by a principal whose only permission is a minimal identity policy (Allow kms:Encrypt), in
// the same run, on the same server (`server --dev --workers 1`), in interleaved rounds (http-load.js
// interleavedRounds; target: realistic >= 0.9x minimal, on the medians). Also the pure decision cost in process.
//
// Realistic set: a service principal with the `application` role (an explicit Deny of everything but data
// operations), principal tags, three attached policies (an Allow on key ARNs under encryption-context and
// principal-tag conditions, a Deny outside private networks on aws:SourceIp, a Deny of destructive actions), and a
// key with its own key policy of five statements (account delegation, key administrators, the application with a
// ForAllValues condition on the encryption-context keys, a Deny without TLS, a Deny after a date) and ten grants.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPolicyEngine } from '../dist/policy/policy-engine.js';
import { CONNECTIONS, DURATION, RATIO_ROUNDS, ROOT, awsCall, interleavedRounds, post, signedAwsHeaders, startProcess, stopProcess } from './http-load.js';
import { fmt, median, printRatio, printTable, roundsColumn } from './stats.js';

const doc = (...Statement) => JSON.stringify({ Version: '2012-10-17', Statement });

function realisticPolicies(account) {
  return {
    'payments-data': doc({
      Sid: 'UsePaymentKeys',
      Effect: 'Allow',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: `arn:aws:kms:*:${account}:key/*`,
      Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'bench', 'aws:PrincipalTag/team': 'payments' } },
    }),
    'network-guard': doc({
      Sid: 'PrivateNetworksOnly',
      Effect: 'Deny',
      Action: 'kms:*',
      Resource: '*',
      Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '10.0.0.0/8', '192.168.0.0/16', '::1/128'] } },
    }),
    'no-destroy': doc({ Sid: 'NoDestruction', Effect: 'Deny', Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:DeleteImportedKeyMaterial'], Resource: '*' }),
  };
}

function realisticKeyPolicy(account, appArn) {
  return doc(
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
    { Sid: 'KeyAdministrators', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/admin` }, Action: ['kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:TagResource', 'kms:UntagResource'], Resource: '*' },
    {
      Sid: 'ApplicationUse',
      Effect: 'Allow',
      Principal: { AWS: appArn },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'purpose'] } },
    },
    { Sid: 'DenyWithoutTls', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'DenyAfterRetirement', Effect: 'Deny', Principal: '*', Action: 'kms:Encrypt', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2100-01-01T00:00:00Z' } } },
  );
}

/** Microseconds per decision, in process, for the two callers (no I/O). */
function decisionCost(account) {
  const engine = createPolicyEngine();
  const keyArn = `arn:aws:kms:us-east-1:${account}:key/00000000-0000-4000-8000-000000000001`;
  const appArn = `arn:aws:iam::${account}:role/payments-service`;
  const facts = {
    'aws:currenttime': new Date(),
    'aws:securetransport': true,
    'aws:sourceip': '127.0.0.1',
    'kms:calleraccount': account,
    'aws:principaltag/team': 'payments',
    'kms:keyspec': 'SYMMETRIC_DEFAULT',
    'kms:encryptioncontextkeys': ['tenant'],
    'kms:encryptioncontext:tenant': 'bench',
  };
  const realistic = {
    caller: { principalId: 'a', arn: appArn, roles: ['application'], tags: { team: 'payments' }, credential: 'x', policies: Object.entries(realisticPolicies(account)).map(([name, document]) => ({ name, document })) },
    action: 'Encrypt',
    resource: keyArn,
    keyPolicy: realisticKeyPolicy(account, appArn),
    conditions: facts,
  };
  const minimal = {
    caller: { principalId: 'b', arn: `arn:aws:iam::${account}:user/minimal`, roles: [], credential: 'x', policies: [{ name: 'encrypt-only', document: doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }) }] },
    action: 'Encrypt',
    resource: keyArn,
    keyPolicy: null,
    conditions: facts,
  };
  const time = (request) => {
    if (engine.decide(request).decision !== 'allow') throw new Error('bench request is not allowed');
    const n = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) engine.decide(request);
    return ((performance.now() - t0) * 1000) / n;
  };
  time(minimal);
  time(realistic);
  return { minimal: median([1, 2, 3].map(() => time(minimal))), realistic: median([1, 2, 3].map(() => time(realistic))) };
}

export async function benchAuthorization() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-authz-'));
  const port = 21443 + Math.floor(Math.random() * 1000);
  const dd = await startProcess([join(ROOT, 'bin/datadefender.js'), 'server', '--dev', '--workers', '1', '--data-dir', dir, '--listen', `127.0.0.1:${port}`], 'ready');
  try {
    const admin = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8'));
    admin.ca = await readFile(admin.caCertFile);
    const account = admin.accountId;
    const policies = realisticPolicies(account);
    for (const [name, document] of Object.entries(policies)) await post(admin, '/v1/policies', { name, document });
    await post(admin, '/v1/policies', { name: 'encrypt-only', document: doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }) });
    const principal = async (name, body) => {
      const created = await post(admin, '/v1/principals', { name, ...body });
      const key = await post(admin, `/v1/principals/${name}/access-keys`, {});
      return { ...admin, principalArn: created.principal.arn, accessKeyId: key.accessKey.accessKeyId, secretAccessKey: key.accessKey.secretAccessKey };
    };
    const app = await principal('payments-service', { kind: 'service', roles: ['application'], policies: Object.keys(policies), tags: { team: 'payments', env: 'prod' } });
    const minimal = await principal('minimal', { policies: ['encrypt-only'] });

    const realisticKey = (await awsCall(admin, 'CreateKey', { Policy: realisticKeyPolicy(account, app.principalArn), BypassPolicyLockoutSafetyCheck: true })).KeyMetadata.KeyId;
    for (let i = 0; i < 10; i++) {
      await awsCall(admin, 'CreateGrant', { KeyId: realisticKey, GranteePrincipal: `arn:aws:iam::${account}:role/other-${i}`, Operations: ['Decrypt'] });
    }
    const minimalKey = (await awsCall(admin, 'CreateKey', {})).KeyMetadata.KeyId;
    const plaintext = Buffer.alloc(1024, 7).toString('base64');
    const bodyFor = (keyId) => JSON.stringify({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { tenant: 'bench' } });
    const url = `https://127.0.0.1:${port}/`;
    // Signed afresh for every round (a signature stays valid for 5 minutes), then replayed for the round.
    const signed = (caller, keyId) => async () => {
      const body = bodyFor(keyId);
      return { url, body, headers: await signedAwsHeaders(caller, 'Encrypt', body) };
    };
    const summary = await interleavedRounds({ minimal: signed(minimal, minimalKey), realistic: signed(app, realisticKey) });
    const decide = decisionCost(account);
    printTable(`Authorization cost: AWS API Encrypt (SigV4, 1 KiB), ${CONNECTIONS} connections, median of ${RATIO_ROUNDS} interleaved ${DURATION}s rounds`, [
      ['caller', 'req/s', 'p50 ms', 'p99 ms', 'decision µs (in process)', 'rounds req/s'],
      ['minimal identity policy (baseline)', fmt(summary.minimal.rps), fmt(summary.minimal.p50, 1), fmt(summary.minimal.p99, 1), fmt(decide.minimal, 2), roundsColumn(summary.minimal)],
      ['realistic policy set', fmt(summary.realistic.rps), fmt(summary.realistic.p50, 1), fmt(summary.realistic.p99, 1), fmt(decide.realistic, 2), roundsColumn(summary.realistic)],
    ]);
    const ratio = printRatio('realistic / minimal', summary.realistic, summary.minimal, 0.9);
    return { ...summary, decide, ratio };
  } finally {
    await stopProcess(dd);
    await rm(dir, { recursive: true, force: true });
  }
}
