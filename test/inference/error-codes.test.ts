// Error codes provoked for real, each by the failure it names: llama.cpp's template engine
// failing, llama_decode finding no room, and an addon that is missing or cannot be loaded.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChat } from '../../lib/pipeline/start.js';
import { frame, tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());
const root = fileURLToPath(new URL('../../', import.meta.url));

t.test('ERR_TEMPLATE: a chat template that raises, in llama.cpp\'s jinja engine', async (t) => {
  const messages = [{ role: 'user', content: 'hi' }];
  t.equal(model.applyTemplate(messages, { template: '{{ messages[0].content }}' }), 'hi', 'control: an override template renders');
  t.throws(() => model.applyTemplate(messages, { template: '{{ raise_exception("no such role") }}' }), { code: 'ERR_TEMPLATE', message: /no such role/ });
  t.throws(() => model.applyTemplate(messages, { template: '{% for m in messages %}{{ m.content }' }), { code: 'ERR_TEMPLATE' }, 'a template that does not parse');
});

t.test('ERR_TEMPLATE: a template that drops the media marker cannot carry the video', async (t) => {
  const [g] = await model.encode([frame(0)]);
  const ctx = await model.createContext({ contextSize: 256 });
  // the real model, rendering through a template that keeps the roles only
  const rolesOnly = Object.create(model, {
    applyTemplate: { value: (m: never, o: object) => model.applyTemplate(m, { ...o, template: '{% for m in messages %}{{ m.role }}: {% endfor %}' }) },
  });
  await t.rejects(startChat(rolesOnly, ctx, [{ embeddings: g!.data, count: 64 }]), { code: 'ERR_TEMPLATE' });
  t.equal(ctx.nPast(), 0, 'nothing was evaluated');
  const ok = await startChat(model, ctx, [{ embeddings: g!.data, count: 64 }]);
  t.ok(ok.evaluated > 64, 'control: the model\'s own template carries it');
});

t.test('ERR_CONTEXT_FULL, nothing kept: llama_decode finds no free cells when two sequences share the KV cache', async (t) => {
  const [g] = await model.encode([frame(1)]);
  const ctx = await model.createContext({ contextSize: 256, sequences: 2 });
  const images = (n: number) => Array.from({ length: n }, () => ({ embeddings: g!.data, count: 64 }));
  const size = ctx.contextSize;
  // each sequence's plan fits the context on its own; together they need more cells than there are
  const plan = images(Math.floor(size / 64) - 1);
  const r0 = await ctx.prefill(plan, { sequence: 0 });
  t.ok(r0.nPast > size / 2, `sequence 0 holds ${r0.nPast} of ${size} cells`);
  const err = await ctx.prefill(plan, { sequence: 1 }).catch((e) => e);
  // the cache is full (the other sequence's cells): the code a caller handles by freeing a sequence, not llama.cpp's failure
  t.equal(err?.code, 'ERR_CONTEXT_FULL', err?.message);
  t.match(err?.message, /other sequences hold cells/);
  t.equal(ctx.nPast(1), 0, 'sequence 1 did not advance');
  await ctx.truncate(0, 0);
  const again = await ctx.prefill(plan, { sequence: 1 });
  t.equal(again.nPast, r0.nPast, 'once sequence 0 gives its cells back, the same plan evaluates');
});

/** Runs `versions()` from a copy of the compiled package whose build folder is `prepare`d. */
function versionsFrom(prepare: (pkg: string) => void): { code?: string; message?: string; ok?: boolean } {
  const pkg = mkdtempSync(join(tmpdir(), 'vidlm-noaddon-'));
  try {
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
    prepare(pkg);
    const script = `import(${JSON.stringify(join(pkg, 'dist', 'index.js'))}).then((m) => { m.versions(); console.log('{"ok":true}'); })
      .catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, VIDLM_BACKEND: '' } });
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
}

t.test('ERR_NATIVE_LOAD: the package without its addon, and with one that is not a shared library', async (t) => {
  const missing = versionsFrom(() => {});
  t.equal(missing.code, 'ERR_NATIVE_LOAD', String(missing.message));
  const broken = versionsFrom((pkg) => {
    mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
    writeFileSync(join(pkg, 'build', 'Release', 'vidlm.node'), 'not an ELF file');
  });
  t.equal(broken.code, 'ERR_NATIVE_LOAD', String(broken.message));
  t.match(broken.message, /could not be loaded/);
  const real = versionsFrom((pkg) => {
    mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
    cpSync(join(root, 'build', 'Release', 'vidlm.node'), join(pkg, 'build', 'Release', 'vidlm.node'));
  });
  t.same(real, { ok: true }, 'control: the same copy with the real addon loads');
});

t.test('ERR_CONTEXT_CREATE: a context llama.cpp refuses (a quantized V cache without flash attention), with the numbers and its reason', async (t) => {
  const ok = await model.createContext({ contextSize: 256, sequences: 2, kvType: 'f16', flashAttention: false });
  t.equal(ok.sequences, 2, 'control: the same context with an f16 cache is created');
  ok.dispose();
  const err = await model.createContext({ contextSize: 256, sequences: 2, kvType: 'q8_0', flashAttention: false }).catch((e: unknown) => e);
  t.match(err, { code: 'ERR_CONTEXT_CREATE', details: { contextSize: 256, sequences: 2, kvType: 'q8_0' } });
  t.match((err as Error).message, /256 tokens, 2 sequences.*flash_attn/, 'the numbers, then llama.cpp\'s own reason');
  const after = await model.createContext({ contextSize: 256 });
  t.equal(after.contextSize, 256, 'the model is still usable');
  after.dispose();
});
