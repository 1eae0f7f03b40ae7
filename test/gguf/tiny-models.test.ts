import { createHash } from 'node:crypto';
import { appendFile, readFile, stat } from 'node:fs/promises';
import t from 'tap';
import { GgmlType, GgufType, validateGguf, type GgufSummary } from '../../lib/gguf/index.js';
import { DEFAULT_VOCAB_PATH, TINY_LLAVA, tinyModels, type TinyModelPaths } from '../fixtures/tiny-models.js';

async function hashes(paths: TinyModelPaths): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, p] of Object.entries(paths)) out[k] = createHash('sha256').update(await readFile(p)).digest('hex');
  return out;
}

const tensor = (s: GgufSummary, name: string) => s.tensors.find((x) => x.name === name);

t.test('same seed, same bytes; the shared cache matches a fresh generation', async (t) => {
  const root = t.testdir(); // once: each call empties the folder
  const a = await tinyModels({ cacheDir: `${root}/a`, force: true });
  const b = await tinyModels({ cacheDir: `${root}/b`, force: true });
  const ha = await hashes(a);
  t.same(await hashes(b), ha, 'two generations are identical');
  const shared = await hashes(await tinyModels());
  t.same(shared, ha, '.cache/models matches a fresh generation (if not: bump GENERATOR_VERSION)');
  const other = await tinyModels({ cacheDir: `${root}/c`, params: { seed: 1 } });
  const hc = await hashes(other);
  t.not(hc.model, ha.model, 'another seed gives other weights');
  t.not(hc.mmproj, ha.mmproj);
});

t.test('the cache is reused while inputs are unchanged, rebuilt when a file is damaged', async (t) => {
  const dir = t.testdir();
  const [p, again] = await Promise.all([tinyModels({ cacheDir: dir }), tinyModels({ cacheDir: dir })]);
  t.same(again, p, 'concurrent callers share one generation');
  const before = await stat(p.model);
  const second = await tinyModels({ cacheDir: dir });
  const after = await stat(second.model);
  t.equal(after.mtimeMs, before.mtimeMs, 'not rewritten');
  t.equal(after.ino, before.ino, 'same file');

  const good = await hashes(p);
  await appendFile(p.mmproj, 'x');
  await tinyModels({ cacheDir: dir });
  t.same(await hashes(p), good, 'a damaged file is regenerated');
  t.not((await stat(p.model)).ino, before.ino, 'regeneration rewrote the files');

  const third = await tinyModels({ cacheDir: dir, params: { seed: 7 } });
  t.not((await hashes(third)).model, good.model, 'changed params regenerate');
});

t.test('the LLM: llama, n_embd 64, 2 layers, 4 heads, Llama SPM tokenizer, chat template', async (t) => {
  const { model } = await tinyModels();
  const s = await validateGguf(model);
  const kv = (k: string) => s.kv.get(k);
  t.equal(kv('general.architecture'), 'llama');
  t.equal(kv('llama.embedding_length'), 64);
  t.equal(kv('llama.block_count'), 2);
  t.equal(kv('llama.attention.head_count'), 4);
  t.equal(kv('llama.attention.head_count_kv'), 4);
  t.equal(kv('llama.feed_forward_length'), TINY_LLAVA.nFf);
  t.equal(kv('llama.context_length'), 2048);
  t.equal(kv('llama.rope.dimension_count'), 16);
  t.equal(kv('llama.vocab_size'), 32000);
  t.match(kv('tokenizer.chat_template'), /USER: .*ASSISTANT: /);

  const vocab = await validateGguf(DEFAULT_VOCAB_PATH);
  for (const [key, value] of vocab.kv) {
    if (!key.startsWith('tokenizer.')) continue;
    t.same(s.kvTypes.get(key), vocab.kvTypes.get(key), `${key} type copied`);
    t.same(kv(key), value, `${key} copied`);
  }
  t.equal((kv('tokenizer.ggml.tokens') as string[])[30143], '\ufeff', 'U+FEFF token kept');

  const names = ['token_embd.weight'];
  for (let i = 0; i < 2; i++) {
    for (const n of ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down']) {
      names.push(`blk.${i}.${n}.weight`);
    }
  }
  names.push('output_norm.weight', 'output.weight');
  t.same(s.tensors.map((x) => x.name), names, 'exactly the tensors llama.cpp requires');
  t.same(tensor(s, 'token_embd.weight')!.dims, [64, 32000]);
  t.same(tensor(s, 'output.weight')!.dims, [64, 32000]);
  t.same(tensor(s, 'blk.1.ffn_down.weight')!.dims, [128, 64]);
  t.equal(tensor(s, 'blk.0.attn_q.weight')!.type, GgmlType.F16);
  t.equal(tensor(s, 'blk.0.attn_norm.weight')!.type, GgmlType.F32);

  // Weights are small and norms are one, so activations stay finite.
  const bytes = await readFile(model);
  const norm = tensor(s, 'output_norm.weight')!;
  t.same([...new Float32Array(bytes.buffer.slice(bytes.byteOffset + norm.fileOffset, bytes.byteOffset + norm.fileOffset + norm.nbytes))], new Array(64).fill(1));
});

t.test('the mmproj: CLIP ViT 112 px, patch 14 (64 tokens), width 64, 2 blocks, MLP projector to 64', async (t) => {
  const { mmproj, mmprojMismatch } = await tinyModels();
  const s = await validateGguf(mmproj);
  const kv = (k: string) => s.kv.get(k);
  t.equal(kv('clip.projector_type'), 'mlp');
  t.equal(kv('clip.has_vision_encoder'), true);
  t.equal(kv('clip.vision.image_size'), 112);
  t.equal(kv('clip.vision.patch_size'), 14);
  t.equal(kv('clip.vision.embedding_length'), 64);
  t.equal(kv('clip.vision.block_count'), 2);
  t.equal(kv('clip.vision.attention.head_count'), 4);
  t.equal(kv('clip.vision.projection_dim'), 64);
  t.same(s.kvTypes.get('clip.vision.image_mean'), { type: GgufType.ARRAY, itemType: GgufType.FLOAT32 });
  t.equal((kv('clip.vision.image_std') as Float32Array).length, 3);
  t.same(tensor(s, 'v.patch_embd.weight')!.dims, [14, 14, 3, 64]);
  t.same(tensor(s, 'v.position_embd.weight')!.dims, [64, 65], '64 patches + class token');
  t.same(tensor(s, 'v.class_embd')!.dims, [64]);
  t.equal(tensor(s, 'v.class_embd')!.type, GgmlType.F32);
  t.ok(tensor(s, 'v.blk.1.ffn_down.weight'));
  t.notOk(tensor(s, 'v.blk.2.ln1.weight'), 'two blocks only');
  t.same(tensor(s, 'mm.0.weight')!.dims, [64, 64]);
  t.same(tensor(s, 'mm.2.weight')!.dims, [64, 64], 'projects to the LLM n_embd');
  t.equal(s.tensors.length, 5 + 2 * 16 + 4);

  const m = await validateGguf(mmprojMismatch);
  t.same(tensor(m, 'mm.2.weight')!.dims, [32, 32], 'mismatched mmproj projects to 32');
  t.equal(m.kv.get('clip.vision.projection_dim'), 32);
  t.equal(m.kv.get('clip.vision.image_size'), 112, 'otherwise the same');
});

t.test('the broken fixtures are refused', async (t) => {
  const p = await tinyModels();
  await t.rejects(validateGguf(p.truncated), { code: 'ERR_NOT_GGUF', details: { reason: 'truncated' } });
  await t.rejects(validateGguf(p.notGguf), { code: 'ERR_NOT_GGUF', details: { reason: 'bad-magic' } });
  await t.rejects(validateGguf(p.badTensorCount), { code: 'ERR_NOT_GGUF', details: { tensorCount: 42 } });
});
