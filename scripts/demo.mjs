#!/usr/bin/env node
// The built-in demo: generates the tiny random-weight models (no weights can be downloaded)
// and runs the vidlm CLI on them. Random weights answer gibberish: the demo shows the
// pipeline, its token counts and its timings, not a real answer.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const { tinyModels } = await import(join(root, 'dist', 'fixtures', 'tiny-models.js'));

function vidlm(...args) {
  console.log(`\n$ vidlm ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
}

const m = await tinyModels();
console.log(`tiny models in ${dirname(m.model)}`);
vidlm('version');
vidlm('inspect', '--model', m.model, '--mmproj', m.mmproj);
