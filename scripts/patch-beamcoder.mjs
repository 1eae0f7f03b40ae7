#!/usr/bin/env node
/**
 * Patches beamcoder 0.7.1 (the FFmpeg bindings lib/video uses) and rebuilds it with node-gyp.
 * Meant to run as the package's `postinstall`; idempotent (a patched tree is left alone unless
 * --force). Three fixes in beamcoder's C++ sources and one addition:
 *
 * 1. Race in every asynchronous call: `c->status = napi_queue_async_work(...)` runs on the main
 *    thread after the work was queued, so a worker that already failed (a missing file fails in
 *    microseconds) gets its error status overwritten with napi_ok. A failed demuxer open then
 *    "succeeds" with a NULL format context and the process segfaults in fromAVFormatContext;
 *    failed reads and decodes are silently reported as successes.
 * 2. rejectStatus() reads `c->status` after tidyCarrier() deleted `c` (use after free).
 * 3. Diagnostic printf()s go to stdout, which corrupts `vidlm ... --json`; they now go to stderr.
 * 4. (level 2) scripts/beamcoder/vidlm_batch.cc is compiled in: `vidlm_readPackets` and
 *    `vidlm_decodePackets` read and decode many packets per asynchronous call and free the
 *    pictures before a seek target natively (see that file).
 *
 * A marker `VIDLM_PATCH_LEVEL` is added to the module's exports so lib/video can tell a patched
 * build from a stock one at run time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PATCH_LEVEL = 2;
const force = process.argv.includes('--force');
// As a postinstall step a failure must not fail `npm install`: vidlm still works with a stock
// beamcoder (and warns at run time). --strict makes failures exit 1.
const strict = process.argv.includes('--strict');
const fail = (msg) => {
  console.error(`patch-beamcoder: ${msg}`);
  process.exit(strict ? 1 : 0);
};
const require = createRequire(import.meta.url);

let root;
try {
  root = dirname(require.resolve('beamcoder/package.json'));
} catch {
  console.error('patch-beamcoder: beamcoder is not installed; nothing to do');
  process.exit(0);
}
const src = join(root, 'src');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
if (version !== '0.7.1') console.error(`patch-beamcoder: written for beamcoder 0.7.1, found ${version}; trying anyway`);

const marker = `VIDLM_PATCH_LEVEL`;
const initFile = join(src, 'beamcoder.cc');
const patchedLevel = () => Number(/napi_create_int32\(env, (\d+), &level\)/.exec(readFileSync(initFile, 'utf8'))?.[1] ?? 0);
const sourceLevel = patchedLevel();

function edit(file, fn) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = fn(before);
  if (after !== before) writeFileSync(path, after);
  return after !== before;
}

if (sourceLevel === 0) {
  let changed = 0;
  // 1. queue race: never write the carrier from the main thread once the work is queued
  for (const file of readdirSync(src).filter((f) => f.endsWith('.cc'))) {
    if (edit(join('src', file), (s) => s.replace(
      /c->status = napi_queue_async_work\(env, c->_request\);(\r?\n)([ \t]*)REJECT_RETURN;/g,
      (_m, nl, indent) => `{ napi_status queueStatus = napi_queue_async_work(env, c->_request);${nl}${indent}  if (queueStatus != napi_ok) { c->status = queueStatus; REJECT_RETURN; } }`,
    ))) changed++;
  }
  // 2. use after free in rejectStatus
  edit('src/beamcoder_util.cc', (s) => s
    .replace(
      /(int32_t rejectStatus\(napi_env env, carrier\* c, char\* file, int32_t line\) \{\r?\n)(\s*)if \(c->status != BEAMCODER_SUCCESS\) \{/,
      '$1$2int32_t result = c->status; // read before tidyCarrier() deletes c\n$2if (result != BEAMCODER_SUCCESS) {',
    )
    .replace(/delete\[\] extMsg;(\r?\n\s*)tidyCarrier\(env, c\);(\r?\n\s*)\}(\r?\n\s*)return c->status;/, 'free(extMsg);$1tidyCarrier(env, c);$2}$3return result;'));
  // 3. diagnostics to stderr
  for (const file of readdirSync(src).filter((f) => f.endsWith('.cc') || f.endsWith('.h'))) {
    edit(join('src', file), (s) => s.replace(/(?<![A-Za-z_])printf\(/g, 'fprintf(stderr, '));
  }
  // marker
  edit('src/beamcoder.cc', (s) => s.replace(
    /(status = napi_define_properties\(env, exports, 29, desc\);\r?\n\s*CHECK_STATUS;\r?\n)/,
    `$1  { napi_value level; if (napi_create_int32(env, 1, &level) == napi_ok) napi_set_named_property(env, exports, "${marker}", level); }\n`,
  ));
  if (patchedLevel() !== 1 || changed < 5 || !readFileSync(join(src, 'beamcoder_util.cc'), 'utf8').includes('return result;')) {
    fail(`the sources did not match what this patch expects (${changed} files changed); leaving the build as it is`);
  }
  console.error(`patch-beamcoder: patched ${changed} files in ${src}`);
}

// 4. the batch calls (level 2): one more source file, registered in Init
const batchSrc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'beamcoder', 'vidlm_batch.cc'), 'utf8');
const batchDst = join(src, 'vidlm_batch.cc');
const batchChanged = !existsSync(batchDst) || readFileSync(batchDst, 'utf8') !== batchSrc;
if (batchChanged) writeFileSync(batchDst, batchSrc);
edit('binding.gyp', (s) => (s.includes('src/vidlm_batch.cc') ? s : s.replace('"src/hwcontext.cc"', '"src/hwcontext.cc", "src/vidlm_batch.cc"')));
edit('src/beamcoder.cc', (s) => {
  if (s.includes('vidlmBatchInit')) return s;
  return s
    .replace(/(\r?\n)napi_value Init\(napi_env env, napi_value exports\) \{/, '$1napi_status vidlmBatchInit(napi_env env, napi_value exports);$1napi_value Init(napi_env env, napi_value exports) {')
    .replace(/(\{ napi_value level; if \(napi_create_int32\(env, \d+, &level\))/, 'status = vidlmBatchInit(env, exports);\n  CHECK_STATUS;\n  $1');
});
edit('src/beamcoder.cc', (s) => s.replace(/napi_create_int32\(env, \d+, &level\)/, `napi_create_int32(env, ${PATCH_LEVEL}, &level)`));
if (patchedLevel() !== PATCH_LEVEL || !readFileSync(initFile, 'utf8').includes('vidlmBatchInit(env, exports)') || !readFileSync(join(root, 'binding.gyp'), 'utf8').includes('src/vidlm_batch.cc')) {
  fail('the batch calls could not be added; leaving the build as it is');
}

if (!force && !batchChanged && existsSync(join(root, 'build', 'Release', 'beamcoder.node'))) {
  // the sources are patched; rebuild only if the binary predates the patch
  try {
    const bc = require(join(root, 'build', 'Release', 'beamcoder.node'));
    if (bc[marker] >= PATCH_LEVEL) {
      console.error('patch-beamcoder: already patched and built');
      process.exit(0);
    }
  } catch { /* rebuild below */ }
}

// rebuild with the node-gyp that npm ships (or the one in node_modules)
let gyp;
try { gyp = require.resolve('node-gyp/bin/node-gyp.js'); } catch { /* fall through */ }
if (!gyp) {
  const npmGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(npmGyp)) gyp = npmGyp;
}
if (!gyp) fail('node-gyp not found; rebuild beamcoder by hand (cd node_modules/beamcoder && node-gyp rebuild)');
const args = [gyp, 'rebuild', `-j`, process.env.VIDLM_BUILD_JOBS ?? '2'];
// use the headers of the running node when they are installed with it (no download needed)
const nodedir = join(dirname(process.execPath), '..');
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
console.error(`patch-beamcoder: rebuilding (${args.slice(1).join(' ')})`);
try {
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
} catch (e) {
  fail(`the rebuild failed (${e.message}); beamcoder's sources are patched, rebuild it by hand`);
}
// check in a fresh process: this one may hold the old binary already
const level = execFileSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(join(root, 'build', 'Release', 'beamcoder.node'))}).${marker}))`], { encoding: 'utf8' });
if (Number(level) !== PATCH_LEVEL) fail('rebuilt, but the marker is missing');
console.error('patch-beamcoder: done');
