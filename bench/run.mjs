#!/usr/bin/env node
// `npm run bench -- <name> [args]`: runs bench/<name>.ts (TypeScript through tap's ts-node
// loader, the same one the tests use). With no name, lists the benchmarks.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.log(`usage: npm run bench -- <${names.join('|')}> [options]`);
  process.exit(name ? 2 : 0);
}
const r = spawnSync(process.execPath, ['--expose-gc', '--import', '@tapjs/typescript/import', join(here, `${name}.ts`), ...args], {
  stdio: 'inherit', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, cwd: join(here, '..'),
});
process.exit(r.status ?? 1);
