/**
 * What the prebuild weighs and what building it takes (issue 30: docs/install.md's figures come
 * from here, not from a hand-copied `ls`).
 *
 * Sizes (section `prebuild-size`): prebuilds/<platform>-<arch>/ as `npm run prebuild` left it,
 * every file as shipped and after `strip --strip-all` on a copy (the two agree when prebuildify's
 * --strip did its job; the bench says so when they do not), grouped as install.md lists them, and
 * `npm pack --dry-run --json`'s packed and unpacked size of the tarball (so `npm run build:ts`
 * first: the tarball carries dist/). With `--backends cuda,vulkan` also the GPU plug-ins in
 * prebuilds/<platform>-<arch>-<backend>/ (`npm run build:cuda` / `npm run build:vulkan`; the bench
 * stops when one is not built: it never prints a size it did not measure).
 *
 * Build time (section `prebuild-size-build`, with `--build`): `npm run prebuild` from an empty
 * build-prebuild/ (ccache as it is: its hits and misses for this build are counted from its stats
 * log; `--no-ccache` for a cold build), then the same command again with nothing changed; whole
 * process (wall and CPU by /usr/bin/time), at the bench's own priority: run it under the bench lock.
 *
 * Run: npm run prebuild && npm run build:ts && npm run bench -- prebuild-size [--backends cuda,vulkan] [--write-docs]
 *      flock /tmp/vidlm-bench.lock npm run bench -- prebuild-size --build [--no-ccache] [--write-docs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRun, publish } from './doc-table.js';

const run = benchRun('prebuild-size');
const { values } = parseArgs({
  options: {
    backends: { type: 'string' }, build: { type: 'boolean' }, 'no-ccache': { type: 'boolean' },
    'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' },
  },
});
const root = run.root;
const tuple = `${platform()}-${arch()}`;
const BUDGET_MB = 40; // the prebuild folder's size budget (install.md)
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const mb2 = (bytes: number) => (bytes / 1e6).toFixed(2); // one file's size

// --- build time: first, so that the sizes below are those of the folder it built ---
if (values.build) {
  const statsLog = join(mkdtempSync(join(tmpdir(), 'prebuild-size-')), 'ccache-stats.log');
  rmSync(join(root, 'build-prebuild'), { recursive: true, force: true });
  const fresh = timedPrebuild({ CCACHE_STATSLOG: statsLog, ...(values['no-ccache'] ? { CCACHE_DISABLE: '1' } : {}) });
  const cache = ccacheCounts(statsLog);
  const again = timedPrebuild({});
  const rows = [
    `| \`npm run prebuild\`, empty build folder, ${values['no-ccache'] ? 'ccache off (cold)' : `ccache as it was (${cache.hits} hits, ${cache.misses} misses)`} | ${fresh.wallS.toFixed(0)} | ${fresh.cpuS.toFixed(0)} |`,
    `| \`npm run prebuild\` again, nothing changed | ${again.wallS.toFixed(0)} | ${again.cpuS.toFixed(0)} |`,
  ];
  publish(run, {
    file: 'docs/install.md', section: 'prebuild-size-build',
    body: ['| build | wall (s) | CPU, user + sys (s) |', '| --- | ---: | ---: |', ...rows].join('\n'), runs: 1,
    statistic: 'each build one whole `npm run prebuild` process timed by /usr/bin/time (CPU summed over its children, the compilers included); ccache counts from its stats log for that build only',
  });
}

interface Measured { file: string; bytes: number; stripped: number | null }

function measure(dir: string, files = readdirSync(dir).sort()): Measured[] {
  const tmp = mkdtempSync(join(tmpdir(), 'prebuild-size-'));
  try {
    return files.map((file) => {
      const path = join(dir, file);
      const bytes = statSync(path).size;
      let stripped: number | null = null;
      if (platform() === 'linux' && /\.(node|so)(\.\d+)*$/.test(file)) {
        const copy = join(tmp, file);
        copyFileSync(path, copy);
        execFileSync('strip', ['--strip-all', copy]);
        stripped = statSync(copy).size;
      }
      return { file, bytes, stripped };
    });
  } finally { rmSync(tmp, { recursive: true, force: true }); }
}

const dir = join(root, 'prebuilds', tuple);
if (!existsSync(join(dir, 'vidlm.node'))) {
  console.error(`prebuild-size: prebuilds/${tuple}/vidlm.node is missing: run \`npm run prebuild\` first (or pass --build)`);
  process.exit(2);
}
const files = measure(dir);
const notStripped = files.filter((f) => f.stripped !== null && f.stripped < f.bytes);
for (const f of notStripped) console.error(`prebuild-size: ${f.file} is not stripped: ${mb(f.bytes)} MB shipped, ${mb(f.stripped!)} MB stripped`);

const groups: [string, RegExp][] = [
  ['`vidlm.node`', /^vidlm\.node$/],
  ['`libvidlm-ggml-base` + `libvidlm-ggml`', /^libvidlm-ggml(-base)?\./],
  ['`libggml-cpu-<variant>`', /^libggml-cpu-/],
  ['FFmpeg', /^lib(av|sw)[a-z]+-vidlm\./],
];
const sum = (xs: Measured[], k: 'bytes' | 'stripped') => xs.reduce((a, f) => a + (f[k] ?? f.bytes), 0);
const row = (what: string, xs: Measured[], detail = '') =>
  `| ${what} | ${xs.length} | ${mb(sum(xs, 'bytes'))} | ${mb(sum(xs, 'stripped'))} | ${detail} |`;
const claimed = new Set<string>();
const rows: string[] = [];
for (const [what, re] of groups) {
  const xs = files.filter((f) => re.test(f.file));
  xs.forEach((f) => claimed.add(f.file));
  if (!xs.length) continue;
  let detail = '';
  if (what.startsWith('`libggml-cpu')) {
    const each = xs.map((f) => f.bytes);
    detail = `${mb2(Math.min(...each))}–${mb2(Math.max(...each))} each: ${xs.map((f) => f.file.replace(/^libggml-cpu-|\..*$/g, '')).join(', ')}`;
  } else if (what === 'FFmpeg' || xs.length > 1) {
    detail = xs.map((f) => `\`${f.file}\` ${mb2(f.bytes)}`).join(', ');
  }
  rows.push(row(what, xs, detail));
}
const others = files.filter((f) => !claimed.has(f.file));
if (others.length) rows.push(row('other files', others, others.map((f) => `\`${f.file}\``).join(', ')));
const total = sum(files, 'bytes');
rows.push(row(`**\`prebuilds/${tuple}/\` in all**`, files, `the budget is ${BUDGET_MB} MB: ${total / 1e6 <= BUDGET_MB ? 'within it' : '**over it**'}`));

// the npm tarball, as `npm pack` would write it (dist/ must be built: the tarball carries it)
if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('prebuild-size: dist/ is not built: run `npm run build:ts` first (the tarball carries it)');
  process.exit(2);
}
const pack = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as
  { filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string }[] }[];
const p = pack[0]!;
const packedPrebuilds = p.files.filter((f) => f.path.startsWith(`prebuilds/${tuple}/`)).length;
if (packedPrebuilds !== files.length) throw new Error(`npm pack carries ${packedPrebuilds} files of prebuilds/${tuple}/, the folder holds ${files.length}`);
const packTable = ['| npm tarball (`npm pack`) | files | unpacked (MB) | packed (MB) |', '| --- | ---: | ---: | ---: |',
  `| \`${p.filename}\`: dist/, the prebuild folder, README, docs/install.md, licences | ${p.entryCount} | ${mb(p.unpackedSize)} | ${mb(p.size)} |`];

// GPU plug-ins, only where built here
const backendRows: string[] = [];
for (const backend of (values.backends ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
  const file = { cuda: 'libggml-cuda.so', vulkan: 'libggml-vulkan.so' }[backend];
  if (!file) throw new Error(`--backends: ${backend} is not a GPU plug-in this bench knows (cuda, vulkan)`);
  const bdir = join(root, 'prebuilds', `${tuple}-${backend}`);
  if (!existsSync(join(bdir, file))) {
    console.error(`prebuild-size: prebuilds/${tuple}-${backend}/${file} is not built here: run \`npm run build:${backend}\` first`);
    process.exit(2);
  }
  const [m] = measure(bdir, [file]);
  const info = existsSync(join(bdir, 'build-info.json')) ? JSON.parse(readFileSync(join(bdir, 'build-info.json'), 'utf8')) as { archs?: string; seconds?: number } : {};
  const what = backend === 'cuda' ? `CUDA plug-in (architectures \`${info.archs ?? '?'}\`)` : 'Vulkan plug-in (all shaders embedded)';
  backendRows.push(`| ${what} | 1 | ${mb(m!.bytes)} | ${mb(m!.stripped ?? m!.bytes)} | \`prebuilds/${tuple}-${backend}/${file}\`${info.seconds ? `; scripts/build-gpu.mjs recorded ${info.seconds} s for its build (build-info.json)` : ''} |`);
}

const body = [
  `\`prebuilds/${tuple}/\` as \`npm run prebuild\` left it; MB = 10^6 bytes; "stripped" is each file after \`strip --strip-all\` on a copy${notStripped.length ? ` (**${notStripped.length} file(s) not stripped as shipped**)` : ' (equal to the shipped size: prebuildify stripped them)'}.`,
  '',
  '| what | files | size as shipped (MB) | stripped (MB) | detail |',
  '| --- | ---: | ---: | ---: | --- |',
  ...rows,
  ...backendRows,
  '',
  ...packTable,
  '',
  '<details><summary>every file</summary>',
  '',
  '| file | size as shipped (MB) | stripped (MB) |',
  '| --- | ---: | ---: |',
  ...files.map((f) => `| \`${f.file}\` | ${mb2(f.bytes)} | ${f.stripped === null ? 'n/a' : mb2(f.stripped)} |`),
  '',
  '</details>',
].join('\n');
publish(run, {
  file: 'docs/install.md', section: 'prebuild-size', body, runs: 1,
  statistic: 'sizes read once from the files (they do not vary run to run); the tarball\'s from `npm pack --dry-run --json`',
});

/** One whole `npm run prebuild`, wall and CPU (user + sys of it and its children) by /usr/bin/time. */
function timedPrebuild(env: Record<string, string>): { wallS: number; cpuS: number } {
  const marker = join(mkdtempSync(join(tmpdir(), 'prebuild-size-')), 'time');
  const r = spawnSync('/usr/bin/time', ['-o', marker, '-f', '%e %U %S', 'npm', 'run', 'prebuild'],
    { cwd: root, stdio: ['ignore', 2, 2], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`npm run prebuild exited ${r.status}`);
  const [e, u, s] = readFileSync(marker, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number) as [number, number, number];
  return { wallS: e, cpuS: u + s };
}

/** Hits and misses of one build, from the ccache stats log it wrote (one result name a line). */
function ccacheCounts(log: string): { hits: number; misses: number } {
  if (!existsSync(log)) return { hits: 0, misses: 0 };
  const lines = readFileSync(log, 'utf8').split('\n').map((l) => l.trim());
  return {
    hits: lines.filter((l) => l === 'direct_cache_hit' || l === 'preprocessed_cache_hit').length,
    misses: lines.filter((l) => l === 'cache_miss').length,
  };
}
