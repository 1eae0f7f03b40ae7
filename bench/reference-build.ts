/**
 * llama.cpp's own llama-mtmd-cli with its ffmpeg-program video path on (LLAMA_SUBPROCESS +
 * MTMD_VIDEO; vidlm's build turns both off), built from the vendored tree by
 * bench/reference/CMakeLists.txt into a separate, git-ignored folder (build-reference-video/) on
 * first use; never part of .ci/run. Everything else is configured as vidlm's build is, so ccache
 * serves ggml and llama from it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export function referenceVideoCli(root = process.cwd()): string {
  const dir = join(root, 'build-reference-video');
  const bin = join(dir, 'bin', 'llama-mtmd-cli');
  if (existsSync(bin)) return bin;
  // CCACHE_BASEDIR and the flags cmake-js gives vidlm's build: the shared objects are cache hits
  const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root };
  console.error(`building llama-mtmd-cli with its video path into ${dir} (once)`);
  execFileSync('cmake', ['-S', join(root, 'bench', 'reference'), '-B', dir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
    '-DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION', '-DGGML_NATIVE=ON', '-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=' + join(dir, 'bin')], { stdio: 'inherit', env });
  execFileSync('cmake', ['--build', dir, '--target', 'llama-mtmd-cli', '-j', String(process.env.VIDLM_JOBS ?? cpus().length)], { stdio: 'inherit', env });
  return bin;
}

/** llama-server from the same tree and configuration (its video path: the ffmpeg program), for bench/serve.ts. */
export function referenceServer(root = process.cwd()): string {
  const dir = join(root, 'build-reference-video');
  const bin = join(dir, 'bin', 'llama-server');
  if (existsSync(bin)) return bin;
  const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root };
  console.error(`building llama-server with its video path into ${dir} (once)`);
  execFileSync('cmake', ['-S', join(root, 'bench', 'reference'), '-B', dir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', '-DVIDLM_REFERENCE_SERVER=ON',
    '-DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION', '-DGGML_NATIVE=ON', '-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=' + join(dir, 'bin')], { stdio: 'inherit', env });
  execFileSync('cmake', ['--build', dir, '--target', 'llama-server', '-j', String(process.env.VIDLM_JOBS ?? cpus().length)], { stdio: 'inherit', env });
  return bin;
}
