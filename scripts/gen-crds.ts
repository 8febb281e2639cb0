// Writes crds/*.yaml from the zod schemas in src/api (`npm run gen:crds`); test/api/crds.test.ts
// fails while they are not current.
import { writeFileSync } from 'node:fs';
import { crdFiles } from '../src/api/crds.js';

for (const { path, text } of crdFiles()) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
