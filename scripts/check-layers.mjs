#!/usr/bin/env node
// The layer rule of lib/: every import points down (or stays in its layer). madge (already the
// project's cycle checker) gives the import graph, type imports included; the layer table is in
// scripts/layers.mjs, lowest first. An import from a lower layer to a higher one fails with its path.
// Run by `npm run check:cycles` after madge's own --circular check.
import madge from 'madge';
import { LAYERS, layerOf } from './layers.mjs';

const graph = (await madge(process.argv[2] ?? 'lib', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json' })).obj();
const problems = [];
for (const [file, deps] of Object.entries(graph)) {
  const from = layerOf(file);
  if (from < 0) { problems.push(`${file}: in no layer (add it to LAYERS in scripts/check-layers.mjs)`); continue; }
  for (const dep of deps) {
    const to = layerOf(dep);
    if (to > from) problems.push(`${file} (${LAYERS[from][0]}) imports ${dep} (${LAYERS[to][0]}): an import up the layers`);
  }
}
if (problems.length > 0) {
  console.error(`✖ ${problems.length} layer problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`✔ every import of ${Object.keys(graph).length} files points down the ${LAYERS.length} layers (${LAYERS.map(([n]) => n).join(' < ')})`);
