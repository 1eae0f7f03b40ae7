import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { asarUnpacked, parseBackendChoice, resolveLayout, selectBackends, type Layout, type LoadResult, type LoaderAddon } from '../../lib/loader.js';
import { versions } from '../../lib/index.js';

const tuple = `${process.platform}-${process.arch}`;
const lib = (name: string) => (process.platform === 'win32' ? `ggml-${name}.dll` : `libggml-${name}.so`);

t.test('asarUnpacked rewrites .asar path segments only', async (t) => {
  t.equal(asarUnpacked('/opt/App/resources/app.asar/node_modules/vidlm'), '/opt/App/resources/app.asar.unpacked/node_modules/vidlm');
  t.equal(asarUnpacked('/opt/App/resources/app.asar'), '/opt/App/resources/app.asar.unpacked');
  t.equal(asarUnpacked('C:\\App\\resources\\app.asar\\node_modules\\vidlm\\prebuilds'), 'C:\\App\\resources\\app.asar.unpacked\\node_modules\\vidlm\\prebuilds');
  t.equal(asarUnpacked('/r/app.asar.unpacked/node_modules/vidlm'), '/r/app.asar.unpacked/node_modules/vidlm', 'already unpacked');
  t.equal(asarUnpacked('/r/my.asarx/vidlm'), '/r/my.asarx/vidlm', 'not an .asar segment');
  t.equal(asarUnpacked('/home/u/project/node_modules/vidlm'), '/home/u/project/node_modules/vidlm', 'no asar: unchanged');
});

t.test('resolveLayout finds the addon and plug-ins in a simulated Electron asar layout', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'vidlm-asar-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const resources = join(tmp, 'resources');
  mkdirSync(resources);
  writeFileSync(join(resources, 'app.asar'), 'an archive, unreadable to native code');
  const unpacked = join(resources, 'app.asar.unpacked', 'node_modules');
  // asarUnpack: node_modules/vidlm/prebuilds/** and node_modules/@vidlm/**
  const prebuild = join(unpacked, 'vidlm', 'prebuilds', tuple);
  mkdirSync(prebuild, { recursive: true });
  writeFileSync(join(prebuild, 'vidlm.node'), '');
  writeFileSync(join(prebuild, lib('cpu-x64')), '');
  const vulkan = join(unpacked, 'vidlm', 'prebuilds', `${tuple}-vulkan`);
  mkdirSync(vulkan, { recursive: true });
  writeFileSync(join(vulkan, lib('vulkan')), '');
  const cuda = join(unpacked, '@vidlm', `${tuple}-cuda`);
  mkdirSync(cuda, { recursive: true });
  writeFileSync(join(cuda, 'package.json'), JSON.stringify({ name: `@vidlm/${tuple}-cuda`, version: '0.0.0' }));
  writeFileSync(join(cuda, lib('cuda')), '');

  // The package root as Electron reports it: inside app.asar.
  const root = join(resources, 'app.asar', 'node_modules', 'vidlm');
  const layout = resolveLayout({ root });
  t.equal(layout.addon, join(prebuild, 'vidlm.node'), 'the .node from app.asar.unpacked, via node-gyp-build');
  t.equal(layout.dir, prebuild);
  t.equal(layout.plugins.vulkan, vulkan, 'in-package GPU plug-in folder');
  t.equal(layout.plugins.cuda, cuda, 'optional package, unpacked');
  t.notOk(layout.addon.includes(`app.asar${sep}`), 'no path handed to native code points inside app.asar');
});

t.test('resolveLayout maps paths an Electron-aware resolver returns inside app.asar', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'vidlm-asar-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const unpackedRoot = join(tmp, 'app.asar.unpacked', 'node_modules', 'vidlm');
  const cuda = join(tmp, 'app.asar.unpacked', 'node_modules', '@vidlm', `${tuple}-cuda`);
  mkdirSync(join(unpackedRoot, 'prebuilds', tuple), { recursive: true });
  writeFileSync(join(unpackedRoot, 'prebuilds', tuple, 'vidlm.node'), '');
  mkdirSync(cuda, { recursive: true });
  writeFileSync(join(cuda, lib('cuda')), '');
  const root = join(tmp, 'app.asar', 'node_modules', 'vidlm');
  const layout = resolveLayout({
    root,
    // Electron's fs and require see through app.asar and answer with asar paths.
    resolveAddon: () => join(root, 'prebuilds', tuple, 'vidlm.node'),
    resolvePackage: (name) => join(tmp, 'app.asar', 'node_modules', name),
  });
  t.equal(layout.addon, join(unpackedRoot, 'prebuilds', tuple, 'vidlm.node'));
  t.equal(layout.plugins.cuda, cuda);
  t.equal(layout.plugins.vulkan, undefined, 'no vulkan plug-in installed');
});

t.test('resolveLayout outside Electron: developer build, no plug-ins', { skip: process.env.PREBUILDS_ONLY ? 'PREBUILDS_ONLY skips build/Release' : false }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'vidlm-dev-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  mkdirSync(join(tmp, 'build', 'Release'), { recursive: true });
  writeFileSync(join(tmp, 'build', 'Release', 'vidlm.node'), '');
  mkdirSync(join(tmp, 'prebuilds', `${tuple}-cuda`), { recursive: true }); // empty: not a plug-in
  const layout = resolveLayout({ root: tmp });
  t.equal(layout.addon, join(tmp, 'build', 'Release', 'vidlm.node'), 'build/Release first, like node-gyp-build');
  t.same(layout.plugins, {});
});

function fakeAddon(results: Record<string, LoadResult>, calls: string[]): LoaderAddon {
  return {
    backendInfo: () => ({ dynamic: true, addonPath: '/x/vidlm.node' }),
    loadBackend: (dir, name) => {
      calls.push(`${name}@${dir}`);
      return results[name] ?? { ok: false, error: `no ${name}` };
    },
    versions: () => ({ backends: [] }),
  };
}
const layout: Layout = { addon: '/p/prebuilds/x/vidlm.node', dir: '/p/prebuilds/x', plugins: { cuda: '/p/cuda', vulkan: '/p/vulkan' } };
const cpuOk: LoadResult = { ok: true, name: 'CPU', variant: 'haswell', devices: 1 };

t.test('auto: CUDA without a driver falls back to Vulkan with one warning', async (t) => {
  const calls: string[] = [];
  const s = selectBackends(fakeAddon({ cuda: { ok: false, error: 'libcuda.so.1: cannot open shared object file' }, vulkan: { ok: true, devices: 1 }, cpu: cpuOk }, calls), layout, undefined, 'linux');
  t.equal(s.selected, 'vulkan');
  t.equal(s.requested, 'auto');
  t.same(calls, ['cuda@/p/cuda', 'vulkan@/p/vulkan', 'cpu@/p/prebuilds/x'], 'GPU plug-ins first, CPU variants last');
  t.equal(s.warnings.length, 1);
  t.match(s.warnings[0], /cuda unavailable: libcuda\.so\.1.*using vulkan/);
});

t.test('auto: nothing usable ends on CPU; absent plug-ins are not warned about', async (t) => {
  const calls: string[] = [];
  const s = selectBackends(fakeAddon({ cpu: cpuOk }, calls), { ...layout, plugins: {} }, 'auto', 'linux');
  t.equal(s.selected, 'cpu');
  t.same(s.warnings, []);
  t.same(calls, ['cpu@/p/prebuilds/x']);
});

t.test('VIDLM_BACKEND=cpu loads no GPU plug-in', async (t) => {
  const calls: string[] = [];
  const s = selectBackends(fakeAddon({ cuda: { ok: true, devices: 1 }, cpu: cpuOk }, calls), layout, 'CPU', 'linux');
  t.equal(s.selected, 'cpu');
  t.same(calls, ['cpu@/p/prebuilds/x']);
});

t.test('VIDLM_BACKEND=vulkan skips CUDA; a missing plug-in warns and uses CPU', async (t) => {
  const calls: string[] = [];
  const s = selectBackends(fakeAddon({ cuda: { ok: true, devices: 1 }, vulkan: { ok: true, devices: 1 }, cpu: cpuOk }, calls), layout, 'vulkan', 'linux');
  t.equal(s.selected, 'vulkan');
  t.same(calls, ['vulkan@/p/vulkan', 'cpu@/p/prebuilds/x']);
  const none = selectBackends(fakeAddon({ cpu: cpuOk }, []), { ...layout, plugins: {} }, 'cuda', 'linux');
  t.equal(none.selected, 'cpu');
  t.match(none.warnings[0], /no cuda plug-in is installed.*using CPU/);
});

t.test('an unknown VIDLM_BACKEND warns and means auto', async (t) => {
  const w: string[] = [];
  t.equal(parseBackendChoice('opencl', w), 'auto');
  t.match(w[0], /VIDLM_BACKEND=opencl/);
  t.equal(parseBackendChoice(' Vulkan ', []), 'vulkan');
});

t.test('no loadable CPU variant is an error, not a crash later', async (t) => {
  t.throws(() => selectBackends(fakeAddon({ cpu: { ok: false, error: 'no variant supports this CPU' } }, []), layout, 'cpu', 'linux'), /no CPU backend/);
});

t.test('a build with compiled-in backends loads nothing and checks VIDLM_BACKEND', async (t) => {
  const addon: LoaderAddon = { versions: () => ({ backends: [{ name: 'CPU', devices: [{}] }] }) };
  const s = selectBackends(addon, layout, 'cuda', 'linux');
  t.equal(s.dynamic, false);
  t.equal(s.selected, 'cpu');
  t.match(s.warnings[0], /no cuda backend/);
});

/** loader.requested as a fresh process with VIDLM_BACKEND=value reports it (compiled dist/). */
function requestedWith(value: string | undefined): string {
  const env = { ...process.env };
  if (value === undefined) delete env.VIDLM_BACKEND;
  else env.VIDLM_BACKEND = value;
  const index = new URL('../../dist/index.js', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(index)}); console.log(m.versions().loader.requested);`], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

t.test('VIDLM_BACKEND reaches the loader: cpu, cuda, nothing and nonsense', async (t) => {
  t.equal(requestedWith('cpu'), 'cpu');
  t.equal(requestedWith(' CUDA '), 'cuda');
  t.equal(requestedWith(undefined), 'auto');
  t.equal(requestedWith('bogus'), 'auto', 'an unknown value means auto (with a warning)');
});

t.test('versions() of the loaded addon names the CPU variant and the loader choice', async (t) => {
  const v = versions();
  t.type(v.cpuVariant, 'string');
  t.ok(v.cpuVariant.length > 0, `cpuVariant: ${v.cpuVariant}`);
  t.ok(Array.isArray(v.backendLibraries));
  t.equal(v.loader.requested, requestedWith(process.env.VIDLM_BACKEND), 'this process\'s choice');
  if (v.loader.dynamic) {
    t.ok(v.backendLibraries.some((p) => p.includes('ggml-cpu')), 'a CPU plug-in was loaded');
  } else {
    t.ok(['native', 'portable'].includes(v.cpuVariant), 'compiled-in CPU backend');
  }
});
