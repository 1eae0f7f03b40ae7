// loadModel() on the tiny fixtures and on real bad files: every error code, and the process
// (which llama.cpp's asserts would end) keeps running afterwards.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GgufWriter } from '../../lib/gguf/index.js';
import { loadModel, VidlmError } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const run = promisify(execFile);
const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
const m = await tinyModels();
const dir = await mkdtemp(join(tmpdir(), 'vidlm-load-'));

async function rejectsWith(t: Test, p: Promise<unknown>, code: string, what: string) {
  const err = await p.then(() => null, (e: unknown) => e);
  t.ok(err instanceof VidlmError, `${what}: a VidlmError`);
  t.equal((err as VidlmError | null)?.code, code, `${what}: ${code}`);
  return err as VidlmError;
}

t.test('the tiny pair loads with the shapes it was generated with', async (t) => {
  let last = 0;
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 2, onProgress: (f) => { last = f; } });
  t.equal(model.info.architecture, 'llama');
  t.equal(model.info.nEmbd, 64);
  t.equal(model.info.nLayer, 2);
  t.equal(model.info.nHead, 4);
  t.equal(model.info.nVocab, 32000);
  t.equal(model.info.hasChatTemplate, true);
  t.equal(model.info.vision, true);
  t.equal(model.info.audio, false);
  t.equal(model.info.projectorType, 'mlp');
  t.equal(model.info.imageSize, 112);
  t.equal(model.info.patchSize, 14);
  t.same(model.info.imageGrid, { nx: 8, ny: 8 });
  t.equal(model.info.tokensPerImage, 64, '(112 / 14)² = 64 tokens per image');
  t.equal(model.info.projectionDim, 64);
  t.equal(model.info.mrope, false);
  t.equal(last, 1, 'progress reached 1');
  t.same(model.devices, { llm: 'CPU', mmproj: 'CPU' }, 'no GPU here: both parts on the CPU');
  model.dispose();
  t.equal(model.disposed, true);
  await rejectsWith(t, model.encode([]), 'ERR_DISPOSED', 'a disposed model');
});

t.test('missing files: ERR_FILE_NOT_FOUND', async (t) => {
  await rejectsWith(t, loadModel({ model: join(dir, 'nope.gguf') }), 'ERR_FILE_NOT_FOUND', 'missing model');
  await rejectsWith(t, loadModel({ model: m.model, mmproj: join(dir, 'nope.gguf') }), 'ERR_FILE_NOT_FOUND', 'missing mmproj');
  await rejectsWith(t, loadModel({ model: dir }), 'ERR_FILE_NOT_FOUND', 'a directory');
});

t.test('files that are not (valid) GGUF: ERR_NOT_GGUF', async (t) => {
  await rejectsWith(t, loadModel({ model: m.notGguf }), 'ERR_NOT_GGUF', 'a text file renamed .gguf');
  await rejectsWith(t, loadModel({ model: m.truncated }), 'ERR_NOT_GGUF', 'a truncated LLM');
  await rejectsWith(t, loadModel({ model: m.model, mmproj: m.badTensorCount }), 'ERR_NOT_GGUF', 'an mmproj with a wrong tensor count');
  const empty = join(dir, 'empty.gguf');
  await writeFile(empty, '');
  await rejectsWith(t, loadModel({ model: empty }), 'ERR_NOT_GGUF', 'an empty file');
});

t.test('valid GGUF that llama.cpp or libmtmd reject', async (t) => {
  // an LLM header without its tensors: llama.cpp's loader refuses it (missing token_embd)
  const hollow = join(dir, 'hollow-llm.gguf');
  await new GgufWriter().addString('general.architecture', 'llama').addUint32('llama.embedding_length', 64)
    .addUint32('llama.block_count', 1).addUint32('llama.context_length', 128).addUint32('llama.feed_forward_length', 64)
    .addUint32('llama.attention.head_count', 4).write(hollow);
  const e1 = await rejectsWith(t, loadModel({ model: hollow }), 'ERR_MODEL_LOAD', 'an LLM without tensors');
  t.match(e1.message, /hollow-llm\.gguf/, 'the message names the file');
  await rejectsWith(t, loadModel({ model: m.mmproj }), 'ERR_MODEL_LOAD', 'an mmproj given as the model');

  const hollowProj = join(dir, 'hollow-mmproj.gguf');
  await new GgufWriter().addString('clip.projector_type', 'mlp').addBool('clip.has_vision_encoder', true).write(hollowProj);
  await rejectsWith(t, loadModel({ model: m.model, mmproj: hollowProj }), 'ERR_MMPROJ_LOAD', 'an mmproj without tensors');
  await rejectsWith(t, loadModel({ model: m.model, mmproj: m.model }), 'ERR_MMPROJ_LOAD', 'an LLM given as the mmproj');
});

t.test('a mismatched pair: ERR_MMPROJ_MISMATCH, from the pre-check and from libmtmd', async (t) => {
  const e = await rejectsWith(t, loadModel({ model: m.model, mmproj: m.mmprojMismatch }), 'ERR_MMPROJ_MISMATCH', 'projection 32 vs n_embd 64');
  t.equal(e.details?.projectionDim, 32);
  t.equal(e.details?.nEmbd, 64);
  // past the pre-check, libmtmd's own refusal maps to the same code
  const raw = native().loadModel({ model: m.model, mmproj: m.mmprojMismatch, threads: 1, gpuLayers: 0, mmprojGpu: false });
  await rejectsWith(t, raw, 'ERR_MMPROJ_MISMATCH', 'native load of the mismatched pair');
});

t.test('abort: before the call and while loading', async (t) => {
  await rejectsWith(t, loadModel({ model: m.model, signal: AbortSignal.abort() }), 'ERR_ABORTED', 'an aborted signal');
  // aborted once the call is under way (its file checks or llama.cpp's loader, whichever runs
  // then). An abort from an onProgress callback raced the load itself: a tiny model can finish
  // loading before the callback reaches the JS thread on a loaded machine.
  const ac = new AbortController();
  const p = loadModel({ model: m.model, mmproj: m.mmproj, signal: ac.signal });
  setImmediate(() => ac.abort());
  await rejectsWith(t, p, 'ERR_ABORTED', 'aborted while loading');
});

t.test('bad options: ERR_INVALID_ARG naming the option', async (t) => {
  const e = await rejectsWith(t, loadModel({ model: m.model, threads: 0 }), 'ERR_INVALID_ARG', 'threads 0');
  t.match(e.message, /threads/);
  await rejectsWith(t, loadModel({ model: '' }), 'ERR_INVALID_ARG', 'empty model path');
  await rejectsWith(t, loadModel({ model: m.model, gpuLayers: -2 }), 'ERR_INVALID_ARG', 'negative gpuLayers');
  await rejectsWith(t, loadModel(null as never), 'ERR_INVALID_ARG', 'no options');
});

t.test('after every failure above the process still loads and runs the pair', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 2 });
  const rgb = new Uint8Array(112 * 112 * 3).fill(128);
  const [grid] = await model.encode([{ t: 0, width: 112, height: 112, rgb }]);
  t.equal(grid!.data.length, 64 * 64, '64 tokens of 64 floats');
  t.ok(grid!.data.every(Number.isFinite), 'finite embeddings');
  model.dispose();
});

t.test('vidlm inspect --json prints info; a failure exits 1 with the code on stderr', async (t) => {
  const { stdout } = await run(process.execPath, [cli, 'inspect', '--model', m.model, '--mmproj', m.mmproj, '--json']);
  const info = JSON.parse(stdout);
  t.equal(info.nEmbd, 64);
  t.equal(info.imageSize, 112);
  t.equal(info.patchSize, 14);
  t.equal(info.tokensPerImage, 64);
  t.same(info.imageGrid, { nx: 8, ny: 8 });
  t.same(Object.keys(info).sort(), ['architecture', 'audio', 'audioProjectorType', 'audioSampleRate', 'description', 'hasChatTemplate', 'imageGrid', 'imageSize',
    'mrope', 'nCtxTrain', 'nEmbd', 'nHead', 'nLayer', 'nParams', 'nVocab', 'nonCausalImageAttention', 'patchSize', 'projectionDim',
    'projectorType', 'tokensPerImage', 'vision'].sort(), 'keys exactly as in info');
  const failed = await run(process.execPath, [cli, 'inspect', '--model', m.model, '--mmproj', m.mmprojMismatch, '--json'])
    .then(() => null, (e: { code: number; stdout: string; stderr: string }) => e);
  t.equal(failed?.code, 1, 'exit code 1');
  t.equal(failed?.stdout, '', 'nothing on stdout');
  t.match(failed?.stderr, /^vidlm: ERR_MMPROJ_MISMATCH: /, 'code and message on stderr');
});
