#!/usr/bin/env node
/**
 * Builds one GPU backend plug-in for the prebuilt addon (outside .ci/run: it needs the CUDA
 * toolkit or the Vulkan SDK, and a long build):
 *
 *   node scripts/build-gpu.mjs cuda   [--archs "75-virtual;80-real;..."] [--cublas-root DIR]
 *   node scripts/build-gpu.mjs vulkan [--vulkan-headers DIR]
 *
 * It configures the portable (VIDLM_PREBUILD) build in build-<backend>/, builds only the
 * ggml-<backend> target, and puts the stripped plug-in into prebuilds/<platform>-<arch>-<backend>/
 * with a package.json, so the folder is the optional package @vidlm/<platform>-<arch>-<backend>
 * (`npm pack prebuilds/linux-x64-cuda`). lib/loader.ts finds it there or installed as that package.
 * The plug-in links the prebuild's libvidlm-ggml-base by name: build both from the same commit.
 *
 * CUDA architectures for releases (CUDA 13 toolkit), overridden by VIDLM_CUDA_ARCHS or --archs:
 *   linux-x64, win32-x64: 75-virtual 80-real 86-real 89-real 90-real 100-real 120a-real
 *     PTX for Turing and newer (T4, RTX 20xx, JIT-compiled once), A100/A30 (80),
 *     RTX 30xx/A10/A40 (86), RTX 40xx/L4/L40S (89), H100/H200 (90), B200/GB200 (100),
 *     RTX 50xx/RTX PRO Blackwell (120a: FP4 tensor cores).
 *   linux-arm64: 87-real 90-real 100-real 110-real 121a-real
 *     Jetson AGX/NX/Nano Orin (87), GH200 (90), GB200 (100), Jetson Thor (110), DGX Spark GB10 (121a).
 * CUDA 13 dropped Maxwell, Pascal and Volta; build those with a CUDA 12 toolkit (61-virtual 70-real).
 *
 * --vulkan-headers DIR: a newer Vulkan-Headers include folder (DIR/vulkan/vulkan.hpp) when the
 * system's are older than 1.3.261 (Debian 12); the system's libvulkan is still linked.
 *
 * --cublas-root DIR: a folder with include/cublas_v2.h and lib/libcublas.so (+ libcublasLt.so,
 * libcuda.so link stubs) for toolkits installed without cuBLAS, e.g. a pip wheel or extracted
 * packages.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const backend = args[0];
if (backend !== 'cuda' && backend !== 'vulkan') {
  console.error('usage: node scripts/build-gpu.mjs cuda|vulkan [--archs LIST] [--cublas-root DIR]');
  process.exit(2);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const releaseCudaArchs = arch() === 'arm64'
  ? '87-real;90-real;100-real;110-real;121a-real'
  : '75-virtual;80-real;86-real;89-real;90-real;100-real;120a-real';

const env = { ...process.env, VIDLM_PREBUILD_CONFIG: '1', VIDLM_PORTABLE: '1' };
const defs = [];
let archs;
if (backend === 'cuda') {
  env.VIDLM_CUDA = '1';
  archs = opt('--archs') ?? process.env.VIDLM_CUDA_ARCHS ?? releaseCudaArchs;
  env.VIDLM_CUDA_ARCHS = archs;
  if (!env.CUDACXX && existsSync('/usr/local/cuda/bin/nvcc')) env.CUDACXX = '/usr/local/cuda/bin/nvcc';
  const cublas = opt('--cublas-root') ?? process.env.VIDLM_CUBLAS_ROOT;
  if (cublas) {
    const lib = (n) => join(cublas, 'lib', n);
    defs.push(`--CDCUDA_cublas_LIBRARY=${lib('libcublas.so')}`, `--CDCUDA_cublasLt_LIBRARY=${lib('libcublasLt.so')}`);
    if (existsSync(lib('libcuda.so'))) defs.push(`--CDCUDA_cuda_driver_LIBRARY=${lib('libcuda.so')}`);
    defs.push(`--CDCMAKE_CUDA_FLAGS=-I${join(cublas, 'include')}`, `--CDCMAKE_CXX_FLAGS=-I${join(cublas, 'include')}`);
  }
} else {
  env.VIDLM_VULKAN = '1';
  // llama.cpp needs Vulkan headers >= 1.3.261 (VK_EXT_layer_settings); Debian 12 has 1.3.239.
  const headers = opt('--vulkan-headers') ?? process.env.VIDLM_VULKAN_HEADERS;
  if (headers) defs.push(`--CDVulkan_INCLUDE_DIR=${headers}`);
}

const out = join(root, `build-${backend}`);
const target = `ggml-${backend}`;
const started = Date.now();
// cmake-js applies definitions only when it configures a new folder; update an existing cache.
if (defs.length && existsSync(join(out, 'CMakeCache.txt'))) {
  const c = spawnSync('cmake', [...defs.map((d) => `-D${d.slice(4)}`), out], { stdio: 'inherit', env, cwd: root });
  if (c.status !== 0) process.exit(c.status ?? 1);
}
const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--out', out, '--target', target, ...defs], { stdio: 'inherit', env, cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);
const seconds = Math.round((Date.now() - started) / 1000);

const file = platform() === 'win32' ? `${target}.dll` : `lib${target}.so`;
const built = readdirSync(join(out, 'Release')).find((f) => f === file);
if (!built) {
  console.error(`build-gpu: ${file} not found in ${join(out, 'Release')}`);
  process.exit(1);
}
const tuple = `${platform()}-${arch()}-${backend}`;
const dest = join(root, 'prebuilds', tuple);
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
copyFileSync(join(out, 'Release', file), join(dest, file));
if (platform() === 'linux') spawnSync('strip', ['--strip-unneeded', join(dest, file)], { stdio: 'inherit' });
if (platform() === 'darwin') spawnSync('strip', ['-Sx', join(dest, file)], { stdio: 'inherit' });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const info = { backend, archs, seconds, built: new Date().toISOString(), llamaCpp: JSON.parse(readFileSync(join(root, 'vendor/llama.cpp/vidlm-llama.json'), 'utf8')).commit };
writeFileSync(join(dest, 'build-info.json'), JSON.stringify(info, null, 2) + '\n');
writeFileSync(join(dest, 'package.json'), JSON.stringify({
  name: `@vidlm/${tuple}`,
  version: pkg.version,
  description: `${backend === 'cuda' ? 'CUDA' : 'Vulkan'} backend plug-in for vidlm ${pkg.version} on ${platform()}-${arch()}`,
  license: pkg.license,
  os: [platform()],
  cpu: [arch()],
  files: [file, 'build-info.json'],
}, null, 2) + '\n');

const size = statSync(join(dest, file)).size;
console.log(`build-gpu: prebuilds/${tuple}/${file} ${(size / 1e6).toFixed(1)} MB (stripped), built in ${seconds} s${archs ? `, CUDA architectures ${archs}` : ''}`);
