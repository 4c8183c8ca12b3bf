#!/usr/bin/env node
// The AWS SDK (the aws-kms root of trust) warns on Node.js 20 that its releases after January 2027 need Node.js 22:
// a note for DataDefender's maintainers (package.json pins the SDK), not for operators reading the server's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/cli/main.js');

main(process.argv).catch((err) => {
  process.stderr.write(`datadefender: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
