// No module in lib/ imports one that imports it back (issue 15), checked by madge, the
// well-kept dependency-graph tool, on the TypeScript sources with type-only imports counted.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import madge from 'madge';

const options = { fileExtensions: ['ts'], tsConfig: 'tsconfig.json' };

t.test('lib/ has no import cycle', async (t) => {
  const graph = await madge('lib', options);
  t.ok(Object.keys(graph.obj()).length > 50, 'the whole of lib/ was read');
  t.same(graph.circular(), [], 'no circle');
});

t.test('the check sees a cycle of type-only imports between .ts files (a check that cannot fail proves nothing)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-cycle-'));
  writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport interface A { b?: B }\n");
  writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport interface B { a?: A }\n");
  const graph = await madge(dir, options);
  t.same(graph.circular(), [['a.ts', 'b.ts']]);
});
