#!/usr/bin/env node
// The layer rule of lib/: every import points down (or stays in its layer). madge (already the
// project's cycle checker) gives the import graph, type imports included; the table below is
// the order, lowest first. An import from a lower layer to a higher one fails with its path.
// Run by `npm run check:cycles` after madge's own --circular check.
import madge from 'madge';

/** Lowest first: a file may import its own layer and the ones above it in this list. */
const LAYERS = [
  ['base', /^(errors|options|serial|callbacks|versions|native|loader|model-info|limits)\.ts$|^(gguf|threads)\//],
  ['time', /^time\//],
  ['video', /^video\//],
  ['media', /^(assembly|prompt|subtitles|audio)\//],
  ['inference', /^inference\//],
  ['model', /^model\.ts$/],
  // a chat on a context: above the model, which does not know it
  ['chat', /^inference\/chat\.ts$/],
  ['pipeline', /^pipeline\//],
  ['surfaces', /^(api|watch|server|batch|eval)\/|^(cli-flags|optional-value)\.ts$/],
  ['entry', /^(index|cli)\.ts$|^commands\/|^fixtures\//],
];

// the first layer that matches: inference/chat.ts is in 'chat', not 'inference'
const layerOf = (file) => { const i = LAYERS.findIndex(([name, re]) => name !== 'inference' && re.test(file)); return i >= 0 ? i : LAYERS.findIndex(([, re]) => re.test(file)); };

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
