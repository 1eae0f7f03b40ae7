#!/usr/bin/env node
// Builds build/Release/vidlm.node with cmake-js (Ninja + ccache when present).
// Backends: VIDLM_CUDA=1, VIDLM_VULKAN=1, VIDLM_METAL=1 (Metal is on by default on macOS).
// VIDLM_PREBUILD_CONFIG=1: the portable configuration of prebuilds (shared ggml, backend plug-ins, every
// CPU variant; see CMakeLists.txt) — always with --out, never in the developers' build/.
// Extra targets (e.g. llama-mtmd-cli for the reference test): node scripts/build-native.mjs --target llama-mtmd-cli
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const on = (name) => ['1', 'on', 'true', 'yes'].includes(String(process.env[name] ?? '').toLowerCase());
const defs = {
  GGML_NATIVE: process.env.VIDLM_PORTABLE ? 'OFF' : 'ON',
  GGML_CUDA: on('VIDLM_CUDA') ? 'ON' : 'OFF',
  GGML_VULKAN: on('VIDLM_VULKAN') ? 'ON' : 'OFF',
  GGML_METAL: process.platform === 'darwin' && process.env.VIDLM_METAL !== '0' ? 'ON' : 'OFF',
};
if (process.env.VIDLM_CUDA_ARCHS) defs.CMAKE_CUDA_ARCHITECTURES = process.env.VIDLM_CUDA_ARCHS;
// Only passed when set, so the developers' build/ cache keeps the options it was configured with.
if (on('VIDLM_PREBUILD_CONFIG')) defs.VIDLM_PREBUILD = 'ON';
// the pinned FFmpeg (built once per machine and configuration, then cached): built here, before
// CMake, so its progress shows; CMakeLists.txt asks the same script for the prefix
const ff = spawnSync(process.execPath, [join(root, 'scripts/build-ffmpeg.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (ff.status !== 0) process.exit(ff.status ?? 1);
const cmakeArgs = ['build', '-p', String(process.env.VIDLM_JOBS ?? cpus().length)];
for (const [k, v] of Object.entries(defs)) cmakeArgs.push(`--CD${k}=${v}`);
// Extra CMake definitions pass through: --CDNAME=VALUE (scripts/build-gpu.mjs uses them).
cmakeArgs.push(...args.filter((a) => a.startsWith('--CD')));
const target = args.indexOf('--target');
if (target >= 0) cmakeArgs.push('-T', args[target + 1]);
const out = args.indexOf('--out');
if (out >= 0) cmakeArgs.push('-O', args[out + 1]);
if (on('VIDLM_PREBUILD_CONFIG') && out < 0) {
  console.error('build-native: VIDLM_PREBUILD_CONFIG needs --out DIR (build/ is the developer build)');
  process.exit(2);
}

const started = Date.now();
// CCACHE_BASEDIR makes cached objects reusable across checkouts in different folders (CI clones).
const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root };
const r = spawnSync(process.execPath, [join(root, 'node_modules/cmake-js/bin/cmake-js'), ...cmakeArgs], { cwd: root, stdio: 'inherit', env });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`vidlm: native build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
