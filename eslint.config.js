// Lint: typescript-eslint's recommended rules everywhere, and a purity fence around src/core.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that do I/O, read the clock through a service, or log: never imported by src/core. */
export const coreForbidden = {
  patterns: [
    { group: ['node:*'], message: 'src/core is pure: pass data in, do I/O in an adapter (src/extender, src/kube, sim).' },
    { group: ['fs', 'fs/*', 'path', 'http', 'https', 'net', 'os', 'child_process', 'crypto', 'stream', 'worker_threads', 'process'], message: 'src/core is pure: no Node built-ins.' },
    { group: ['koa', '@koa/*'], message: 'src/core is pure: HTTP belongs in src/extender or src/webhook.' },
    { group: ['@kubernetes/client-node'], message: 'src/core is pure: Kubernetes I/O belongs in src/kube.' },
    { group: ['prom-client'], message: 'src/core is pure: metrics belong in src/metrics.' },
    { group: ['pino', 'pino-*', 'winston', 'debug', 'bunyan', 'loglevel'], message: 'src/core is pure: no logging.' },
    { group: ['@aws-sdk/*', 'lru-cache', 'cli-progress'], message: 'src/core is pure: no I/O libraries.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.k8s-bin/**', '.k8s-state/**', 'test/fixtures/**', 'sim/traces/**', 'out/**', '.tmp/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', coreForbidden],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/core is pure: pass configuration in.' },
        { name: 'console', message: 'src/core is pure: no logging.' },
        { name: 'setTimeout', message: 'src/core is pure: time is a parameter.' },
        { name: 'fetch', message: 'src/core is pure: no network.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/core is pure: pass `now` in.' },
        { object: 'Math', property: 'random', message: 'src/core is pure: pass a seeded generator in.' },
      ],
    },
  },
);
