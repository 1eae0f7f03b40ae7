/**
 * Builds and runs test/mrope/mtmd-probe.cpp against the vendored llama.cpp's static libraries in
 * build/ (those `npm run build:native` makes), cached in .cache/mrope-probe by the source's hash.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ProbeChunk { type: 'text' | 'image'; n: number; npos: number; pos0: number; nx: number; ny: number; positions: number[] }
export interface ProbeResult { mrope: boolean; chunks: ProbeChunk[]; next: number }

export function probeBinary(): string {
  const src = join(root, 'test', 'mrope', 'mtmd-probe.cpp');
  const L = join(root, 'build', 'llama.cpp');
  const libs = ['tools/mtmd/libmtmd.a', 'src/libllama.a', 'ggml/src/libggml.a', 'ggml/src/libggml-cpu.a', 'ggml/src/libggml-base.a', 'vendor/hash/libvendor-hash.a'].map((l) => join(L, l));
  const missing = libs.filter((l) => !existsSync(l));
  if (missing.length) throw new Error(`mtmd probe: build llama.cpp first (npm run build:native); missing ${missing.join(', ')}`);
  const key = createHash('sha256').update(readFileSync(src)).update(libs.map((l) => readFileSync(l).length).join()).digest('hex').slice(0, 16);
  const dir = join(root, '.cache', 'mrope-probe');
  const bin = join(dir, `probe-${key}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const V = join(root, 'vendor', 'llama.cpp');
  execFileSync('c++', ['-std=c++17', '-O1', `-I${V}/include`, `-I${V}/ggml/include`, `-I${V}/tools/mtmd`, src, ...libs, '-lpthread', '-ldl', '-lm', '-o', `${bin}.tmp`], { stdio: 'inherit' });
  execFileSync('mv', [`${bin}.tmp`, bin]);
  return bin;
}

/** items: 'text:…' | 'image:WxH' | 'frame:WxH' (frames are mergeable into pairs). */
export function probe(model: string, mmproj: string, items: string[]): ProbeResult {
  return JSON.parse(execFileSync(probeBinary(), [model, mmproj, ...items], { encoding: 'utf8', maxBuffer: 64 << 20 })) as ProbeResult;
}
