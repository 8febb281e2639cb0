import { expect } from 'chai';
import { ESLint } from 'eslint';

// The purity fence around src/core is an eslint rule; these probes show it fires (and only there).
describe('lint: src/core stays pure', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: process.cwd() });
  const lint = async (code: string, filePath: string) => {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  const forbidden = [
    "import { readFileSync } from 'node:fs';",
    "import Koa from 'koa';",
    "import { KubeConfig } from '@kubernetes/client-node';",
    "import { Counter } from 'prom-client';",
    "import pino from 'pino';",
    "import * as http from 'http';",
  ];
  for (const line of forbidden) {
    it(`rejects \`${line}\` in src/core`, async () => {
      const messages = await lint(`${line}\nexport const x = 1;\n`, 'src/core/probe.ts');
      expect(messages.join('\n')).to.match(/no-restricted-imports: .*src\/core is pure/);
    });
  }

  it('rejects reading the clock or randomness in src/core', async () => {
    const messages = await lint('export const t = Date.now() + Math.random();\n', 'src/core/probe.ts');
    expect(messages.filter((m) => m.startsWith('no-restricted-properties'))).to.have.length(2);
  });

  it('allows the same import outside src/core', async () => {
    expect(await lint("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'src/extender/probe.ts')).to.deep.equal([]);
  });
});
