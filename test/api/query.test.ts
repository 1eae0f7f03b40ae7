// ask / localize / chat end to end on the tiny model and generated clips.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ask, chat, localize, VidlmError } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const run = promisify(execFile);
const model = await tinyModel();
t.teardown(() => model.dispose());
const clip = await media.h264(); // 4 s, 30 fps, 120 frames
const gen = { maxTokens: 4, temperature: 0 };

// Visual tokens by hand for the 8 × 8 grid (64 tokens per frame):
const expected = {
  concat: 8 * 64,            // Video-LLaVA: 8 frames, every token
  pllava: 16 * 4 * 4,        // PLLaVA: 16 frames, 8×8 pooled 2×2 → 4×4
  bilinear: 32 * 4 * 4,      // OneVision: 32 frames, bilinear 8×8 → ceil(8/2)=4 → 4×4, no newline embedding here
  vcgpt: 100 + 64,           // Video-ChatGPT: 100 temporal + 64 spatial
  slowfast: 100 + 4 * 16,    // LITA: 100 fast + 4 slow frames pooled 2×2 to 4×4
} as const;

for (const [strategy, visual] of Object.entries(expected)) {
  t.test(`ask with ${strategy}: ${visual} visual tokens`, async (t) => {
    const t0 = performance.now();
    const r = await ask(clip, 'What happens?', { model, strategy: strategy as keyof typeof expected, ...gen, contextSize: 2048 });
    const wall = performance.now() - t0;
    t.equal(r.strategy, strategy);
    t.equal(r.tokens.visual, visual);
    t.ok(r.tokens.prompt > visual, 'the prompt holds the visual tokens and the text');
    t.equal(r.tokens.generated, 4);
    t.equal(r.duration, 4);
    // the stages are consecutive parts of the call: positive, and together no longer than it
    const { decodeMs, encodeMs, prefillMs, firstTokenMs, generateMs } = r.timings;
    t.ok([decodeMs, encodeMs, prefillMs, firstTokenMs, generateMs].every((x) => x > 0), JSON.stringify(r.timings));
    t.ok(firstTokenMs <= generateMs, 'the first token comes within generation');
    t.ok(decodeMs + encodeMs + prefillMs + generateMs <= wall, `stages sum ${(decodeMs + encodeMs + prefillMs + generateMs).toFixed(1)} ms of the call's ${wall.toFixed(1)} ms`);
  });
}

t.test('the frames are the method\'s own sample of the clip', async (t) => {
  const r = await ask(clip, 'What happens?', { model, strategy: 'slowfast', ...gen, contextSize: 2048 });
  // LITA: round(linspace(0, 119, 100)), half to even, at 30 fps
  const want = Array.from({ length: 100 }, (_, i) => { const x = (i * 119) / 99; const f = Math.floor(x); const d = x - f; return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f; });
  t.same(r.frames.map((f) => f.index), want);
  t.same(r.frames.map((f) => Math.round(f.t * 30)), want, 't is each frame\'s own time');
  const c = await ask(clip, 'What happens?', { model, strategy: 'concat', ...gen });
  t.same(c.frames.map((f) => f.index), [0, 17, 34, 51, 68, 85, 102, 119], 'Video-LLaVA: linspace(0, 119, 8, dtype=int)');
});

t.test('time tokens: LITA tokens add text, not visual tokens', async (t) => {
  const plain = await ask(clip, 'What happens?', { model, strategy: 'slowfast', ...gen, contextSize: 2048 });
  const lita = await ask(clip, 'What happens?', { model, strategy: 'slowfast', timeTokens: 'lita', ...gen, contextSize: 2048 });
  t.equal(lita.tokens.visual, plain.tokens.visual);
  t.ok(lita.tokens.prompt > plain.tokens.prompt + 100, 'a time token before each of the 100 fast tokens');
});

t.test('auto picks a strategy that fits the context', async (t) => {
  const big = await ask(clip, 'What happens?', { model, ...gen, contextSize: 2048 });
  t.equal(big.strategy, 'concat', '8 × 64 = 512 tokens fit in 2048');
  const small = await ask(clip, 'What happens?', { model, ...gen, contextSize: 512 });
  t.equal(small.strategy, 'pllava', '512 do not fit in 512 - 128; PLLaVA\'s 256 do');
});

t.test('a plan that cannot fit fails before any decoding: ERR_CONTEXT_FULL', async (t) => {
  // control: the same call with a plan that fits reports its decoding, so silence below means something
  const stages = new Set<string>();
  await ask(clip, 'What happens?', { model, strategy: 'concat', frames: 8, ...gen, contextSize: 2048, onProgress: (e) => stages.add(e.stage) });
  t.ok(stages.has('decode'), 'a plan that fits reports decode progress');
  let decoded = false;
  const err = await ask(clip, 'What happens?', { model, strategy: 'concat', frames: 100, contextSize: 2048, onProgress: (e) => { if (e.stage === 'decode') decoded = true; } }).catch((e) => e);
  t.ok(err instanceof VidlmError);
  t.equal(err.code, 'ERR_CONTEXT_FULL');
  t.equal(err.details.visualTokens, 6400);
  t.notOk(decoded, 'no frame was decoded');
});

t.test('progress runs through every stage in order; abort gives ERR_ABORTED', async (t) => {
  const stages: string[] = [];
  await ask(clip, 'What happens?', { model, ...gen, onProgress: (e) => { if (stages[stages.length - 1] !== e.stage) stages.push(e.stage); } });
  t.same(stages, ['decode', 'encode', 'prefill', 'generate']);
  const ac = new AbortController();
  const err = await ask(clip, 'What happens?', { model, ...gen, signal: ac.signal, onProgress: (e) => { if (e.stage === 'encode') ac.abort(); } }).catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
});

t.test('bad media and options', async (t) => {
  await t.rejects(ask('/nonexistent/clip.mp4', 'Hi?', { model }), { code: 'ERR_VIDEO_OPEN' });
  await t.rejects(ask(await media.notMedia(), 'Hi?', { model }), { code: 'ERR_VIDEO_OPEN' });
  await t.rejects(ask(await media.audioOnly(), 'Hi?', { model }), { code: 'ERR_VIDEO_NO_STREAM' });
  await t.rejects(ask(clip, '', { model }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(ask(clip, 'Hi?', { model, frames: 0 }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(ask(clip, 'Hi?', { model, strategy: 'bogus' as never }), { code: 'ERR_INVALID_ARG' });
});

t.test('localize: the grammar keeps the answer a span, parsed with LITA\'s formula', async (t) => {
  const r = await localize(clip, 'The counter shows 60.', { model, maxTokens: 16, temperature: 0, contextSize: 2048 });
  const m = /^<t(\d+)> <t(\d+)>$/.exec(r.text);
  t.ok(m, `answer ${JSON.stringify(r.text)} has the form <tA> <tB>`);
  // LITA's evaluation: seconds = round(index · duration / 99, 2)
  const [a, b] = [Number(m![1]), Number(m![2])].map((k) => (k * 4) / 99);
  t.ok(Math.abs(r.start! - Math.min(a!, b!)) <= 0.005 && Number.isInteger(Math.round(r.start! * 100 * 1e6) / 1e6), `start ${r.start} = ${Math.min(a!, b!)} to 2 decimals`);
  t.ok(Math.abs(r.end! - Math.max(a!, b!)) <= 0.005, `end ${r.end} = ${Math.max(a!, b!)} to 2 decimals`);
  const text = await localize(clip, 'The counter shows 60.', { model, strategy: 'pllava', timeTokens: 'text', maxTokens: 16, temperature: 0, contextSize: 2048 });
  t.match(text.text, /^\d+(\.\d)?s - \d+(\.\d)?s$/);
  t.ok(text.start !== null && text.end !== null && text.start <= text.end);
});

t.test('chat(): the video once, then only each question', async (t) => {
  const c = await chat(clip, { model, strategy: 'pllava', contextSize: 2048 });
  const first = await c.ask('What happens?', gen).turn;
  const second = await c.ask('And then?', gen).turn;
  t.ok(first.evaluated < 30 && second.evaluated < 30, `${first.evaluated} and ${second.evaluated} tokens per question`);
  t.ok(c.context.nPast(0) > 256, 'the 256 visual tokens are in the cache');
  await c.dispose();
  t.equal(c.context.disposed, true, 'the chat owns the context it made: disposing the chat frees it');
});

t.test('vidlm ask --json: the documented keys', async (t) => {
  const m = await tinyModels();
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const { stdout } = await run(process.execPath, [cli, 'ask', clip, 'What happens?', '--model', m.model, '--mmproj', m.mmproj,
    '--strategy', 'slowfast', '--frames', '100', '--time-tokens', 'lita', '--max-tokens', '4', '--temp', '0', '--ctx-size', '2048', '--json']);
  const r = JSON.parse(stdout);
  t.same(Object.keys(r).sort(), ['frames', 'strategy', 'text', 'timings', 'tokens']);
  t.same(Object.keys(r.tokens).sort(), ['generated', 'prompt', 'visual']);
  t.same(Object.keys(r.timings).sort(), ['decodeMs', 'encodeMs', 'firstTokenMs', 'generateMs', 'prefillMs']);
  t.equal(r.tokens.visual, 164, '100 + 4 × 16 for the 8 × 8 grid');
  t.equal(r.frames.length, 100);
  t.same(Object.keys(r.frames[0]).sort(), ['index', 't']);
});

t.test('a second question about the same video encodes nothing again', async (t) => {
  const m = await tinyModel();
  t.teardown(() => m.dispose());
  const first = await ask(clip, 'What happens?', { model: m, strategy: 'pllava', ...gen });
  const misses = m.cache!.misses;
  const second = await ask(clip, 'Who is there?', { model: m, strategy: 'pllava', ...gen });
  t.equal(m.cache!.misses, misses, 'no cache miss: all 16 frames came from the cache');
  t.ok(m.cache!.hits >= 16);
  t.same(second.frames, first.frames);
});
