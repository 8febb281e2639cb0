// Lint: typescript-eslint's recommended rules everywhere, and a purity fence around src/core.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that do I/O, read the clock through a service, or log: never imported by src/core. */
export const coreForbidden = {
  patterns: [
    { group: ['node:*'], message: 'src/core is pure: pass data in, do I/O in an adapter (src/extender, src/kube, sim).' },
    {
      group: ['fs', 'fs/*', 'path', 'http', 'https', 'net', 'os', 'child_process', 'crypto', 'stream', 'worker_threads', 'process'],
      message: 'src/core is pure: no Node built-ins.',
    },
    { group: ['koa', '@koa/*'], message: 'src/core is pure: HTTP belongs in src/extender or src/webhook.' },
    { group: ['@kubernetes/client-node'], message: 'src/core is pure: Kubernetes I/O belongs in src/kube.' },
    { group: ['prom-client'], message: 'src/core is pure: metrics belong in src/metrics.' },
    { group: ['pino', 'pino-*', 'winston', 'debug', 'bunyan', 'loglevel'], message: 'src/core is pure: no logging.' },
    { group: ['@aws-sdk/*', 'lru-cache', 'cli-progress'], message: 'src/core is pure: no I/O libraries.' },
  ],
};

/** Folders outside src/core; core imports none of them (type-only from src/api, and api's name rule). */
const OUTSIDE_CORE = ['extender', 'operator', 'webhook', 'agent', 'sim', 'cli', 'kube', 'runtime', 'metrics', 'inventory', 'catalog', 'certs'];
/** The components: each imports shared homes (core, api, kube, runtime, metrics, inventory, catalog, certs), never another component. */
const COMPONENTS = ['extender', 'operator', 'webhook', 'agent', 'sim'];
const folders = (names) => names.map((n) => `**/${n}/**`);

export const coreFence = {
  patterns: [
    { group: folders(OUTSIDE_CORE), message: 'src/core imports nothing outside src/core: pass data in.' },
    { group: ['**/api/*', '!**/api/names.js'], allowTypeImports: true, message: 'src/core imports only types from src/api (and its name rule).' },
  ],
};

/** Imports a component may not make: the other components, and src/cli (the binary, which imports them). */
export const componentFence = (self) => ({
  patterns: [
    {
      group: folders([...COMPONENTS.filter((c) => c !== self), 'cli']),
      message: `Components never import each other: move what ${self} needs into core, api, kube, runtime or metrics.`,
    },
  ],
});

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
    // Type-aware: a promise nobody awaits or handles loses its rejection, and one passed where a
    // callback's result is ignored (an event handler, a forEach) fails silently.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // The fence tests lint probe files that exist only as text; they get the default project.
        projectService: {
          allowDefaultProject: ['src/*/probe.ts', 'src/*/*/probe.ts', 'sim/probe.ts', 'sim/*/probe.ts'],
          // One per folder the fence tests probe (the default of 8 is fewer).
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 24,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', coreForbidden],
      '@typescript-eslint/no-restricted-imports': ['error', coreFence],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: pass configuration in.' },
        { name: 'console', message: 'src/core is pure: no logging.' },
        { name: 'setTimeout', message: 'src/core is pure: time is a parameter.' },
        { name: 'fetch', message: 'src/core is pure: no network.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core is pure: pass `now` in.' },
        { object: 'Math', property: 'random', message: 'src/core is pure: pass a seeded generator in.' },
      ],
    },
  },
  ...COMPONENTS.map((c) => ({
    files: [c === 'sim' ? 'sim/**/*.ts' : `src/${c}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', componentFence(c)] },
  })),
);
