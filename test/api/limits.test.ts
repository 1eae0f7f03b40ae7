/**
 * Issue 31, item 6: what one job may ask for is capped by the process (loadModel's `limits`,
 * batch's --max-* flags), checked before any allocation or decoding — contextSize 2**24 cost
 * 9 GB of KV cache before, a 10-hour FLAC was decoded in full — and an abort during the decoding
 * of a long file lands within 1 s.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ask, chat, countMediaTokens, DEFAULT_LIMITS, loadModel, probeVideo, VidlmError, watch } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { cliSync, quick, readResults, ResultsById, writeJobs } from '../batch/helpers.js';

const m = await tinyModels();
const llava = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
const omni = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1, limits: { contextSize: 1 << 20, audioSeconds: 10_000 } });
t.teardown(() => { llava.dispose(); omni.dispose(); });
const clip = await media.h264(); // 4 s, 30 fps

/** A call's error and the stages it reached. */
async function refused(call: (onProgress: (e: { stage: string }) => void) => Promise<unknown>): Promise<{ err: VidlmError; stages: Set<string>; rss: number }> {
  const stages = new Set<string>();
  const before = process.memoryUsage().rss;
  const err = await call((e) => { stages.add(e.stage); }).then(() => null, (e: unknown) => e);
  if (!(err instanceof VidlmError)) throw new Error(`not refused: ${String(err)}`);
  return { err, stages, rss: process.memoryUsage().rss - before };
}

t.test('library defaults: contextSize over the model\'s trained length (at least 65536) and frames over 1024 are refused before any work', async (t) => {
  t.same(llava.limits, { contextSize: 65536, frames: 1024, audioSeconds: 3600, decodedBytes: 4 * 2 ** 30 }, 'the tiny model is trained at 2048: the floor of 65536');
  t.equal(DEFAULT_LIMITS.frames, 1024);
  for (const [o, option, limit] of [[{ contextSize: 1 << 24 }, 'contextSize', 65536], [{ frames: 2000 }, 'frames', 1024]] as const) {
    const { err, stages, rss } = await refused((onProgress) => ask(clip, 'Hi?', { model: llava, maxTokens: 1, ...o, onProgress }));
    t.equal(err.code, 'ERR_INVALID_ARG', err.message);
    t.match(err.details, { option, limit, got: Object.values(o)[0] });
    t.equal(stages.size, 0, `${option}: nothing decoded`);
    t.ok(rss < 256 * 2 ** 20, `${option}: no allocation (${(rss / 2 ** 20).toFixed(0)} MiB)`);
    await t.rejects(countMediaTokens(clip, { model: llava, ...o }), { code: 'ERR_INVALID_ARG', details: { option } }, `${option}: countMediaTokens too`);
    await t.rejects(chat(clip, { model: llava, ...o }), { code: 'ERR_INVALID_ARG', details: { option } }, `${option}: chat too`);
  }
  t.throws(() => watch(clip, { model: llava, every: 1, window: 2, contextSize: 1 << 24 }), { code: 'ERR_INVALID_ARG', details: { option: 'contextSize' } }, 'watch too');
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, limits: { frames: 0 } }), { code: 'ERR_INVALID_ARG', details: { option: 'limits.frames' } });
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, limits: { bogus: 1 } as never }), { code: 'ERR_INVALID_ARG', details: { option: 'limits.bogus' } });
});

t.test('a process\'s own limits: frames resolved from fps, decoded bytes, each before decoding', async (t) => {
  const small = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, limits: { frames: 8, decodedBytes: 2 ** 20, contextSize: 4096 } });
  t.teardown(() => small.dispose());
  const o = { fps: 4, strategy: 'concat' as const, contextSize: 4096 };
  const planned = await countMediaTokens(clip, { model: llava, ...o }); // the same plan where nothing caps it
  t.ok(planned.frames > 8, `4 fps on 4 s: ${planned.frames} frames`);
  const fps = await refused((onProgress) => ask(clip, 'Hi?', { model: small, ...o, maxTokens: 1, onProgress }));
  t.match(fps.err.details, { option: 'frames', limit: 8, got: planned.frames }, 'the frames of an fps plan, known before decoding');
  t.equal(fps.stages.size, 0);
  // by hand: 6 frames of the clip's RGB pictures (larger than the encoder's 112x112 input) > 1 MiB
  const { video } = await probeVideo(clip);
  const frameBytes = video!.displayWidth * video!.displayHeight * 3;
  t.ok(6 * frameBytes > 2 ** 20 && 2 * frameBytes < 2 ** 20);
  const bytes = await refused((onProgress) => ask(clip, 'Hi?', { model: small, frames: 6, strategy: 'concat', maxTokens: 1, onProgress }));
  t.match(bytes.err.details, { option: 'decodedBytes', limit: 2 ** 20, got: 6 * frameBytes });
  t.equal(bytes.stages.size, 0);
  t.equal(small.info.imageSize, 112);
  await t.rejects(ask(clip, 'Hi?', { model: small, contextSize: 8192, maxTokens: 1 }), { code: 'ERR_INVALID_ARG', details: { option: 'contextSize', limit: 4096 } });
  // 2 frames: under every limit
  const r = await ask(clip, 'Hi?', { model: small, frames: 2, strategy: 'concat', maxTokens: 1, contextSize: 512 });
  t.equal(r.tokens.visual, 2 * 64, 'under every limit: answered');
});

t.test('a 2-hour FLAC: over the audio limit refused before decoding; under it, an abort during decoding lands within 1 s', async (t) => {
  const flac = join(t.testdir(), 'long.flac');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'sine=f=440:r=16000:d=7200', '-c:a', 'flac', '-y', flac]);
  const capped = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1, limits: { contextSize: 1 << 20, audioSeconds: 600 } });
  t.teardown(() => capped.dispose());
  const o = { audio: 'prefix' as const, contextSize: 1 << 19, maxTokens: 1 };
  const over = await refused((onProgress) => ask(flac, 'q', { model: capped, ...o, onProgress }));
  t.match(over.err.details, { option: 'audio', limit: 600, got: 7200 });
  t.ok(over.rss < 256 * 2 ** 20, `nothing decoded (${(over.rss / 2 ** 20).toFixed(0)} MiB)`);
  await t.rejects(countMediaTokens(flac, { model: capped, ...o }), { code: 'ERR_INVALID_ARG', details: { option: 'audio' } });
  // a process that allows it decodes 2 hours (about 2 s of CPU for the ffmpeg program here, more
  // for vidlm's resampling): aborted at moments inside that decoding, it stops at once. (Past the
  // decoding, libmtmd's preprocessing of one 2-hour clip cannot be interrupted: not tested here.)
  for (const at of [200, 600, 1200]) {
    const ac = new AbortController();
    let aborted = 0;
    setTimeout(() => { aborted = performance.now(); ac.abort(); }, at);
    const err = await ask(flac, 'q', { model: omni, ...o, signal: ac.signal }).then(() => null, (e: unknown) => e);
    const late = performance.now() - aborted;
    t.equal((err as VidlmError)?.code, 'ERR_ABORTED');
    t.ok(aborted > 0 && late < 1000, `aborted ${at} ms in: landed ${late.toFixed(0)} ms later`);
  }
});

t.test('vidlm batch --max-ctx-size / --max-frames: a job over them is an ERR_INVALID_ARG line, the others run', async (t) => {
  const dir = t.testdir();
  const jobs = writeJobs(dir, 'jobs.jsonl', [
    { id: 'huge', video: clip, task: 'describe', options: { contextSize: 2 ** 24 } },
    { id: 'many', video: clip, task: 'describe', options: { frames: 3 } },
    { id: 'ok', video: clip, task: 'describe' },
  ]);
  const out = join(dir, 'r.jsonl');
  const r = cliSync(['batch', jobs, '--model', m.model, '--mmproj', m.mmproj, '--threads', '1', '--out', out, '--max-ctx-size', '1024', '--max-frames', '2', ...quick]);
  t.equal(r.status, 0, r.stderr);
  const by = new ResultsById(readResults(out));
  t.equal(by.get('huge').error.code, 'ERR_INVALID_ARG');
  t.match(by.get('huge').error.message, /contextSize 16777216 is over this process's limit of 1024/);
  t.match(by.get('many').error.message, /frames 3 is over this process's limit of 2/);
  t.ok(typeof by.get('ok').text === 'string' && !by.get('ok').error, 'the job under the limits ran');
  const bad = cliSync(['batch', jobs, '--model', m.model, '--mmproj', m.mmproj, '--out', join(dir, 'x.jsonl'), '--max-frames', '0']);
  t.not(bad.status, 0);
  t.match(bad.stderr, /ERR_INVALID_ARG: --max-frames must be an integer >= 1/);
});
