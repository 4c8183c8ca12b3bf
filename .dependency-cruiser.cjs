/**
 * The dependency rules of DESIGN.md §3, enforced on every test run (`npm run lint`).
 */
const forbidden = (name, from, to, comment) => ({ name, comment, severity: 'error', from: { path: from }, to });

module.exports = {
  forbidden: [
    forbidden('errors-are-leaves', '^src/errors/', { path: '^src/(?!errors/)' }, 'errors/ imports nothing of ours'),
    forbidden('crypto-is-pure', '^src/crypto/', { path: '^src/(?!crypto/|errors/)' }, 'crypto/ imports only errors/'),
    forbidden('ports-are-interfaces', '^src/ports/', { path: '^src/(?!ports/|crypto/|errors/)' }, 'ports/ only describe'),
    forbidden(
      'core-stays-pure',
      '^src/core/',
      { path: '^src/(adapters|protocols|http|jobs|cli|identity|config|pki)/|^src/main\\.ts$' },
      'core/ imports ports, crypto, policy, audit, errors only',
    ),
    forbidden('core-no-drivers', '^src/core/', { path: 'node_modules/(fastify|pg|better-sqlite3|kysely|pino|commander)' }, 'no driver or framework in core/'),
    forbidden('policy-is-pure', '^src/policy/', { path: '^src/(?!policy/|errors/)' }, 'policy/ is a pure evaluator'),
    forbidden('metrics-read-only', '^src/metrics/', { path: '^src/(adapters|protocols|http|cli|core|jobs)/|^src/main\\.ts$' }, 'metrics/ is handed its sources'),
    forbidden('audit-no-adapters', '^src/audit/', { path: '^src/(adapters|protocols|http|cli|core)/' }, 'audit/ sits below core'),
    forbidden(
      'adapters-narrow',
      '^src/adapters/',
      { path: '^src/(?!adapters/|ports/|crypto/|errors/)' },
      'adapters import ports, crypto, errors and their own driver',
    ),
    forbidden('protocols-no-adapters', '^src/protocols/', { path: '^src/(adapters|cli)/|^src/main\\.ts$' }, 'protocols never pick adapters'),
    forbidden('only-main-and-cli-wire', '^src/(?!main\\.ts|cli/)', { path: '^src/main\\.ts$' }, 'only cli/ imports main.ts'),
    forbidden(
      'no-caller-supplied-nonces',
      '^src/(?!crypto/aead\\.ts$)',
      { path: '^src/crypto/aead-fixed-iv\\.ts$' },
      'only aead.ts may call the fixed-IV primitive, with a fresh random IV',
    ),
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
