// The model's own media path with M-RoPE (a tiny Qwen2-VL-style pair): libmtmd's tokenizer,
// its 2×2 patch merge and frame-pair merge, and positions that advance by the grid's longest
// side per image, not by its token count.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { ask, chat, loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame, tinyModel } from './helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 2 });
t.teardown(() => model.dispose());
const prefix = '<|im_start|>user\n';
const suffix = '\nWhat happens?<|im_end|>\n<|im_start|>assistant\n';

t.test('the pair loads as an M-RoPE model', async (t) => {
  t.equal(model.info.architecture, 'qwen2vl');
  t.equal(model.info.projectorType, 'qwen2vl_merger');
  t.equal(model.info.mrope, true);
  t.equal(model.applyTemplate([{ role: 'user', content: 'hi' }]), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
});

t.test('prefillMedia: positions advance by the merged grid side, frame pairs merge', async (t) => {
  const frames = [0, 1, 2, 3].map((k) => frame(k));
  const text = prefix + model.mediaMarker.repeat(4) + suffix;
  const wrap = model.imageWrap.before.length + model.imageWrap.after.length;
  // 112×112 = 8×8 patches of 14, merged 2×2 → a 4×4 grid: 16 embeddings, 4 positions (M-RoPE)
  const perImage = wrap + 4;

  const a = await model.createContext({ contextSize: 1024 });
  const textTokens = a.tokenize(prefix).length + 1 /* BOS */ + a.tokenize(suffix).length;
  const paired = await a.prefillMedia(text, frames, { mergeable: true });
  t.equal(paired.nPast, textTokens + 2 * perImage, `4 frames as 2 temporal pairs: ${textTokens} text + 2 × ${perImage}`);
  t.equal(paired.evaluated, paired.nPast);

  const b = await model.createContext({ contextSize: 1024 });
  const single = await b.prefillMedia(text, frames, { mergeable: false });
  t.equal(single.nPast, textTokens + 4 * perImage, 'not mergeable: 4 images');

  const answer = async (ctx: typeof a) => {
    const g = ctx.generate({ maxTokens: 12, temperature: 0 });
    for await (const _ of g) { /* drain */ }
    return (await g.result).text;
  };
  const first = await answer(a);
  t.ok(first.length > 0, `generates after the media (${JSON.stringify(first)})`);
  const again = await model.createContext({ contextSize: 1024 });
  await again.prefillMedia(text, frames, { mergeable: true });
  t.equal(await answer(again), first, 'deterministic');
  const unmerged = await answer(b);
  t.ok(unmerged.length > 0, `generates after 4 unmerged images (${JSON.stringify(unmerged)})`);
  const b2 = await model.createContext({ contextSize: 1024 });
  await b2.prefillMedia(text, frames, { mergeable: false });
  t.equal(await answer(b2), unmerged, 'deterministic');
  t.not(unmerged, first, '4 single images are not the 2 merged pairs: another answer');
});

t.test('ask() and chat() take an M-RoPE model through the native strategy', async (t) => {
  const clip = await media.h264();
  const q = { model, frames: 4, maxTokens: 8, temperature: 0 };
  const a = await ask(clip, 'What happens?', q);
  t.equal(a.strategy, 'native', "auto picks the model's own path");
  t.equal(a.tokens.visual, 2 * 16, '4 frames → 2 temporal pairs of 4×4 merged patches');
  t.same(a.frames.map((f) => f.index), [0, 39, 79, 119], 'linspace(0, 119, 4, dtype=int)');
  t.ok(a.timings.encodeMs > 0, "the model's own time (the default): frame pairs encoded before the prefill");
  const none = await ask(clip, 'What happens?', { ...q, timeTokens: 'none' });
  t.same([none.tokens.visual, none.timings.encodeMs], [2 * 16, 0], "timeTokens 'none': libmtmd's layout, encoding inside the prefill");
  t.ok(a.text.length > 0);
  t.equal((await ask(clip, 'What happens?', q)).text, a.text, 'deterministic');
  // a follow-up evaluates only its own turn
  const c = await chat(clip, { model, frames: 4 });
  const first = c.ask('What happens?', { maxTokens: 4, temperature: 0 });
  for await (const _ of first) { /* drain */ }
  const historyBefore = [...c.history];
  const t2 = await c.ask('And then?', { maxTokens: 4, temperature: 0 }).turn;
  const delta = model.formatTurn(historyBefore, { role: 'user', content: 'And then?' });
  t.equal(t2.evaluated, c.context.tokenize(delta).length, 'a follow-up evaluates only its formatted turn, not the video again');
});

t.test('native on a LLaVA model: libmtmd\'s path, one 8×8 grid per frame', async (t) => {
  const llava = await tinyModel();
  t.teardown(() => llava.dispose());
  const r = await ask(await media.h264(), 'What happens?', { model: llava, strategy: 'native', frames: 2, maxTokens: 4, temperature: 0 });
  t.equal(r.strategy, 'native');
  t.equal(r.tokens.visual, 2 * 64);
});

t.test('what native cannot do is refused with clear errors', async (t) => {
  const clip = await media.h264();
  await t.rejects(ask(clip, 'What happens?', { model, timeTokens: 'lita' }), { code: 'ERR_UNSUPPORTED', message: /time tokens/ });
  await t.rejects(ask(clip, 'What happens?', { model, frames: 200, contextSize: 512 }), { code: 'ERR_CONTEXT_FULL' });
});

t.test('vidlm ask --json on an M-RoPE model: native, stdout holds only the JSON', async (t) => {
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, 'ask', await media.h264(), 'What happens?',
    '--model', m.qwen2vlModel, '--mmproj', m.qwen2vlMmproj, '--frames', '4', '--max-tokens', '4', '--temp', '0', '--json']);
  const r = JSON.parse(stdout);
  t.equal(r.strategy, 'native');
  t.equal(r.tokens.visual, 32);
  t.equal(r.frames.length, 4);
  t.notMatch(stderr, /decoding image batch/, "libmtmd's helper logs only with VIDLM_LOG");
});
