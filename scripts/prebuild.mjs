#!/usr/bin/env node
// `npm run prebuild`: the portable addon into prebuilds/<platform>-<arch>/ with prebuildify
// (N-API, stripped), built by cmake-js through scripts/prebuild-cmake.mjs in build-prebuild/.
// The folder holds vidlm.node, libvidlm-ggml-base, libvidlm-ggml and one libggml-cpu-<variant>
// per CPU variant; lib/loader.ts loads the best variant at run time.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// npm runs a script named "prebuild" as the pre-hook of `npm run build` too; that must stay the
// quick developer build, so skip when the npm that started us was asked for "build".
function npmCommandLine() {
  let pid = process.ppid;
  for (let i = 0; i < 8 && pid > 1; i++) {
    let args = '';
    let ppid = 0;
    try {
      if (existsSync(`/proc/${pid}/cmdline`)) {
        args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)\s+\S+\s+/, '').split(' ')[0]);
      } else if (process.platform !== 'win32') {
        const line = execFileSync('ps', ['-o', 'ppid=', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
        ppid = Number(line.split(/\s+/)[0]);
        args = line.replace(/^\d+\s+/, '');
      } else return '';
    } catch { return ''; }
    if (/\bnpm(-cli\.js)?\b/.test(args)) return args;
    pid = ppid;
  }
  return '';
}
if (process.env.npm_lifecycle_event === 'prebuild' && / (run|run-script|rum|urn) +build\b/.test(` ${npmCommandLine()}`)) {
  console.log('prebuild: skipped as the pre-hook of `npm run build`; run `npm run prebuild` for prebuilds');
  process.exit(0);
}

const tuple = `${platform()}-${arch()}`;
const dest = join(root, 'prebuilds', tuple);
rmSync(dest, { recursive: true, force: true }); // no stale variant libraries from an older build
mkdirSync(join(root, 'build-prebuild'), { recursive: true }); // prebuildify's --cwd must exist
const require = createRequire(import.meta.url);
const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
const started = Date.now();
const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--name', 'vidlm',
  '--cwd', join(root, 'build-prebuild'), '--out', root, '--node-gyp', join(root, 'scripts/prebuild-cmake.mjs')],
{ stdio: 'inherit', cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);

let total = 0;
for (const f of readdirSync(dest).sort()) {
  const size = statSync(join(dest, f)).size;
  total += size;
  console.log(`  ${f.padEnd(36)} ${(size / 1e6).toFixed(2).padStart(7)} MB`);
}
console.log(`prebuild: prebuilds/${tuple} ${(total / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);
