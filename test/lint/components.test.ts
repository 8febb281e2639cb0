import { expect } from 'chai';
import { ESLint } from 'eslint';

// The fence between components is an eslint rule: extender, operator, webhook, agent and sim import
// shared homes (core, api, kube, runtime, metrics, inventory, catalog, certs), never each other or
// src/cli; src/core imports nothing outside itself but types from src/api and api's name rule.
// These probes show the rule fires on a cross import and lets a shared one through.
describe('lint: components never import each other', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: process.cwd() });
  const fenced = async (line: string, filePath: string) => {
    const [result] = await eslint.lintText(`${line}\nexport const probe = [x];\n`, { filePath });
    return result.messages.filter((m) => m.ruleId?.endsWith('no-restricted-imports')).map((m) => m.message);
  };

  const rejected: [string, string][] = [
    ['src/webhook/probe.ts', "import { x } from '../operator/desired.js';"],
    ['src/operator/probe.ts', "import { x } from '../webhook/mutate.js';"],
    ['src/extender/probe.ts', "import { x } from '../agent/agent.js';"],
    ['src/agent/probe.ts', "import { x } from '../extender/app.js';"],
    ['sim/probe.ts', "import { x } from '../src/extender/app.js';"],
    ['sim/report/probe.ts', "import type { x } from '../../src/operator/reconcile.js';"],
    ['src/extender/probe.ts', "import { x } from '../../sim/engine.js';"],
    ['src/operator/probe.ts', "import { x } from '../cli/main.js';"],
  ];
  for (const [file, line] of rejected) {
    it(`rejects \`${line}\` in ${file}`, async () => {
      expect((await fenced(line, file)).join('\n')).to.match(/Components never import each other/);
    });
  }

  const allowed: [string, string][] = [
    ['src/webhook/probe.ts', "import { x } from '../api/storage.js';"],
    ['src/operator/probe.ts', "import { x } from '../kube/client.js';"],
    ['src/agent/probe.ts', "import { x } from '../inventory/nodecache.js';"],
    ['src/extender/probe.ts', "import { x } from '../runtime/body.js';"],
    ['src/webhook/probe.ts', "import { x } from '../metrics/webhook.js';"],
    ['sim/probe.ts', "import { x } from '../src/core/index.js';"],
    ['src/cli/probe.ts', "import { x } from '../operator/controller.js';"],
  ];
  for (const [file, line] of allowed) {
    it(`allows \`${line}\` in ${file}`, async () => {
      expect(await fenced(line, file)).to.deep.equal([]);
    });
  }

  describe('src/core', () => {
    for (const line of ["import { x } from '../kube/client.js';", "import type { x } from '../runtime/flags.js';", "import { x } from '../extender/app.js';"]) {
      it(`rejects \`${line}\``, async () => {
        expect((await fenced(line, 'src/core/probe.ts')).join('\n')).to.match(/src\/core imports nothing outside src\/core/);
      });
    }
    it('rejects a value import from src/api', async () => {
      expect((await fenced("import { x } from '../api/dataset.js';", 'src/core/probe.ts')).join('\n')).to.match(/only types from src\/api/);
    });
    for (const line of [
      "import type { x } from '../api/dataset.js';",
      "import { x } from '../api/names.js';",
      "import type { x } from '../../api/scheduler-extender.js';",
    ]) {
      it(`allows \`${line}\``, async () => {
        expect(await fenced(line, 'src/core/policies/probe.ts')).to.deep.equal([]);
      });
    }
  });
});
