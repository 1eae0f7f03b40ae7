// The tiny Qwen2.5-VL and Qwen3-VL pairs: the keys and tensors that make libmtmd build the right graphs.
// (That libmtmd loads them and positions their images: test/mrope/mtmd.test.ts; that llama-mtmd-cli and
// vidlm answer the same on them: npm run test:reference.)
import t from 'tap';
import { validateGguf, type GgufSummary } from '../../lib/gguf/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const tensor = (s: GgufSummary, name: string) => s.tensors.find((x) => x.name === name);

t.test('Qwen2.5-VL mmproj: window attention, RMSNorm + SwiGLU blocks, 2×2 merger', async (t) => {
  const s = await validateGguf((await tinyModels()).qwen25vlMmproj);
  t.equal(s.kv.get('clip.projector_type'), 'qwen2.5vl_merger');
  t.equal(s.kv.get('clip.vision.n_wa_pattern'), 2, 'block 0 windowed, block 1 full');
  t.ok(tensor(s, 'v.blk.0.ffn_gate.weight'), 'gated MLP');
  t.notOk(tensor(s, 'v.blk.0.ln1.bias'), 'RMSNorm: no bias');
  t.ok(tensor(s, 'v.patch_embd.weight.1'), 'the temporal patch of two frames');
  t.same(tensor(s, 'mm.2.weight')!.dims, [256, 64], 'merges 4 patches of 64 into the LLM n_embd');
});

t.test('Qwen3-VL pair: DeepStack mmproj and a qwen3vl LLM that takes its 2 × n_embd rows', async (t) => {
  const m = await tinyModels();
  const v = await validateGguf(m.qwen3vlMmproj);
  t.equal(v.kv.get('clip.projector_type'), 'qwen3vl_merger');
  t.ok(tensor(v, 'v.blk.0.attn_qkv.weight'), 'fused qkv');
  t.ok(tensor(v, 'v.patch_embd.bias') && tensor(v, 'v.position_embd.weight'), 'patch bias and learned positions');
  t.same(tensor(v, 'v.deepstack.0.fc2.weight')!.dims, [256, 64], 'one DeepStack merger (block 0)');
  t.notOk(tensor(v, 'v.deepstack.1.fc2.weight'));
  const l = await validateGguf(m.qwen3vlModel);
  t.equal(l.kv.get('general.architecture'), 'qwen3vl');
  t.equal(l.kv.get('qwen3vl.n_deepstack_layers'), 1, 'n_embd_inp = 2 × 64 = the mmproj\'s output');
  t.same(Array.from(l.kv.get('qwen3vl.rope.dimension_sections') as Int32Array), [2, 3, 3, 0]);
  t.ok(tensor(l, 'blk.0.attn_q_norm.weight'), 'qwen3 q/k norms');
});
