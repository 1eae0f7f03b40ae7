#!/usr/bin/env node
// Runs the tap suite (arguments pass through) and ends with the plain summary line
// "N passed, N failed, N skipped" that CI reads; the exit code is tap's.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tapBin = require.resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
const child = spawn(process.execPath, [tapBin, '--reporter=terse', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});
child.on('close', (code) => {
  const m = /total:\s*(\d+)(?:,\s*pass:\s*(\d+))?(?:,\s*fail:\s*(\d+))?(?:,\s*skip:\s*(\d+))?/.exec(tail);
  const pass = Number(m?.[2] ?? 0);
  const fail = Number(m?.[3] ?? 0) || (code !== 0 && m && !m[3] ? 1 : 0);
  const skip = Number(m?.[4] ?? 0);
  console.log(`\n${pass} passed, ${fail} failed, ${skip} skipped`);
  process.exit(code ?? 1);
});
