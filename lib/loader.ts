/**
 * Where the native addon and its backend plug-ins are, and which backend to use.
 *
 * A prebuilt addon (prebuilds/<platform>-<arch>/, built with GGML_BACKEND_DL) has no backend
 * compiled in: its folder holds the CPU variants (libggml-cpu-<variant>.so, ggml scores them
 * against the CPU) and, on macOS, Metal. GPU plug-ins come in their own folders:
 * prebuilds/<platform>-<arch>-<backend>/ inside this package, or the optional package
 * @vidlm/<platform>-<arch>-<backend>. Order: CUDA when its driver and a device are there, then
 * Vulkan, then CPU only; VIDLM_BACKEND=cpu|cuda|vulkan overrides. A plug-in that cannot load
 * (no driver, no device) costs one warning line on stderr, never a crash.
 *
 * A developer build (build/Release, everything static) has its backends compiled in; nothing is
 * loaded, and VIDLM_BACKEND only warns when it asks for a backend that build lacks.
 *
 * Electron: native code cannot read inside app.asar, so every path handed to it is rewritten to
 * app.asar.unpacked (see docs/install.md for the asarUnpack globs).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type GpuBackend = 'cuda' | 'vulkan';
export type BackendChoice = 'auto' | 'cpu' | GpuBackend;

/** Optional GPU plug-ins in the order `auto` tries them. */
export const gpuOrder: readonly GpuBackend[] = ['cuda', 'vulkan'];

export interface FsProbe {
  existsSync(path: string): boolean;
  readdirSync(path: string): string[];
}

export interface Layout {
  /** The .node file to require. */
  addon: string;
  /** Its folder: CPU variants (and Metal) of a prebuild. */
  dir: string;
  /** Folders holding an installed GPU plug-in. */
  plugins: Partial<Record<GpuBackend, string>>;
}

export interface LoadResult {
  ok: boolean;
  name?: string;
  path?: string;
  variant?: string;
  devices?: number;
  error?: string;
}

export interface Selection {
  requested: BackendChoice;
  /** The backend models run on: a GPU plug-in, 'metal', a compiled-in GPU, or 'cpu'. */
  selected: string;
  /** True for a prebuild that loaded plug-ins, false for a build with backends compiled in. */
  dynamic: boolean;
  addon: string;
  /** Why a GPU backend was not used; also printed as one stderr line. */
  warnings: string[];
}

/**
 * The path native code must use for `p`: any `<name>.asar` segment becomes `<name>.asar.unpacked`
 * (Electron's asarUnpack puts real files there; only Electron's fs patch can read inside .asar).
 */
export function asarUnpacked(p: string): string {
  return p.replace(/([\\/])([^\\/]+\.asar)(?=[\\/]|$)/g, '$1$2.unpacked');
}

/** The unpacked twin of `p` when it exists, else `p`. */
function preferUnpacked(p: string, fs: FsProbe): string {
  const u = asarUnpacked(p);
  return u !== p && fs.existsSync(u) ? u : p;
}

function hasPlugin(dir: string, backend: string, fs: FsProbe): boolean {
  try {
    return fs.readdirSync(dir).some((f) => /^(lib)?ggml-/.test(f) && f.replace(/^(lib)?ggml-/, '').startsWith(backend));
  } catch {
    return false;
  }
}

export interface ResolveOptions {
  /** The package root (holds package.json and prebuilds/). */
  root: string;
  platform?: string;
  arch?: string;
  fs?: FsProbe;
  /** Finds the .node under a package root; default: node-gyp-build (build/Release, then prebuilds). */
  resolveAddon?: (root: string) => string;
  /** Finds an installed package's folder; default: Node's resolution from the package root. */
  resolvePackage?: (name: string, from: string) => string | undefined;
}

function defaultResolveAddon(root: string): string {
  const require = createRequire(import.meta.url);
  const gyp = require('node-gyp-build') as { resolve(dir: string): string };
  return gyp.resolve(root);
}

function defaultResolvePackage(name: string, from: string): string | undefined {
  try {
    return dirname(createRequire(join(from, 'package.json')).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** Finds the addon and the installed GPU plug-ins (no loading: pure path logic, unit-tested). */
export function resolveLayout(opts: ResolveOptions): Layout {
  const fs = opts.fs ?? { existsSync, readdirSync: (p: string) => readdirSync(p) };
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const resolvePackage = opts.resolvePackage ?? defaultResolvePackage;
  const root = preferUnpacked(opts.root, fs);
  const addon = preferUnpacked((opts.resolveAddon ?? defaultResolveAddon)(root), fs);
  const plugins: Layout['plugins'] = {};
  for (const backend of gpuOrder) {
    const tuple = `${platform}-${arch}-${backend}`;
    const candidates = [join(root, 'prebuilds', tuple)];
    // The optional package, looked up from the unpacked root first (Electron), then the original.
    for (const from of new Set([root, opts.root])) {
      const pkg = resolvePackage(`@vidlm/${tuple}`, from);
      if (pkg) candidates.push(preferUnpacked(pkg, fs));
    }
    const found = candidates.find((d) => hasPlugin(d, backend, fs));
    if (found) plugins[backend] = found;
  }
  return { addon, dir: dirname(addon), plugins };
}

/** VIDLM_BACKEND, checked: an unknown value warns and means auto. */
export function parseBackendChoice(value: string | undefined, warnings: string[]): BackendChoice {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'cpu' || v === 'cuda' || v === 'vulkan') return v;
  warnings.push(`VIDLM_BACKEND=${value} is not one of auto, cpu, cuda, vulkan; using auto`);
  return 'auto';
}

export interface LoaderAddon {
  backendInfo?(): { dynamic: boolean; addonPath: string };
  loadBackend?(dir: string, name: string): LoadResult;
  versions(): { backends: { name: string; devices: unknown[] }[] };
}

/**
 * Loads the backends a prebuild needs (GPU plug-in first, CPU variants last) or, for a build with
 * backends compiled in, checks VIDLM_BACKEND against them. Throws only when no CPU backend loads.
 */
export function selectBackends(addon: LoaderAddon, layout: Layout, choiceEnv: string | undefined, platform: string = process.platform): Selection {
  const warnings: string[] = [];
  const requested = parseBackendChoice(choiceEnv, warnings);
  const dynamic = addon.backendInfo?.().dynamic === true && typeof addon.loadBackend === 'function';
  if (!dynamic) {
    const compiled = addon.versions().backends.filter((b) => b.devices.length > 0).map((b) => b.name.toLowerCase());
    const gpu = compiled.find((n) => n !== 'cpu' && n !== 'blas');
    if (requested !== 'auto' && requested !== 'cpu' && !compiled.includes(requested)) {
      warnings.push(`VIDLM_BACKEND=${requested}: this build has no ${requested} backend (it has ${compiled.join(', ')})`);
    }
    return { requested, selected: gpu ?? 'cpu', dynamic, addon: layout.addon, warnings };
  }

  const load = addon.loadBackend!.bind(addon);
  const failed: string[] = [];
  let selected: string | undefined;
  const tries = requested === 'auto' ? gpuOrder : requested === 'cpu' ? [] : [requested];
  for (const backend of tries) {
    const dir = layout.plugins[backend];
    if (!dir) {
      if (requested === backend) failed.push(`no ${backend} plug-in is installed (npm install @vidlm/${process.platform}-${process.arch}-${backend})`);
      continue;
    }
    const r = load(dir, backend);
    if (r.ok) {
      selected = backend;
      break;
    }
    failed.push(`${backend} unavailable: ${r.error ?? 'unknown error'}`);
  }
  // Metal ships inside the macOS prebuild itself.
  if (!selected && platform === 'darwin' && requested !== 'cpu' && hasPlugin(layout.dir, 'metal', { existsSync, readdirSync: (p) => readdirSync(p) })) {
    const r = load(layout.dir, 'metal');
    if (r.ok) selected = 'metal';
    else failed.push(`metal unavailable: ${r.error ?? 'unknown error'}`);
  }
  const cpu = load(layout.dir, 'cpu');
  if (!cpu.ok) throw new Error(`no CPU backend could be loaded from ${layout.dir}: ${cpu.error ?? 'unknown error'}`);
  if (failed.length) warnings.push(`${failed.join('; ')}; using ${selected ?? 'CPU'}`);
  return { requested, selected: selected ?? 'cpu', dynamic, addon: layout.addon, warnings };
}
