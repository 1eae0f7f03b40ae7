// Issue 11, items 12, 13, 14 and 16: options are checked before any work (no decoding for a
// plan that cannot fit, an fps plan included), every failure is a coded VidlmError, a segment
// past the end is an error, nothing is silently ignored, and the CLI's localize defaults to
// the API's SlowFast.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ask, chat, describe, localize, VidlmError, type ProgressEvent, type VideoQueryOptions } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const model = await tinyModel({ threads: 1 });
t.teardown(() => model.dispose());
const clip = await media.h264(); // 4 s, 30 fps
const still = await media.image('png');

/** The call's error, and the stages it reached before failing. */
async function failure(call: (o: Partial<VideoQueryOptions>) => Promise<unknown>): Promise<{ err: unknown; stages: Set<string> }> {
  const stages = new Set<string>();
  const err = await call({ onProgress: (e: ProgressEvent) => { stages.add(e.stage); } }).then(() => null, (e: unknown) => e);
  return { err, stages };
}

t.test('a segment that starts after the end of the video is ERR_INVALID_ARG', async (t) => {
  const { err, stages } = await failure((o) => ask(clip, 'What happens?', { model, segment: [100, 200], maxTokens: 2, ...o }));
  t.ok(err instanceof VidlmError && err.code === 'ERR_INVALID_ARG', String(err));
  t.match((err as VidlmError).details, { option: 'segment', duration: 4 });
  t.equal(stages.size, 0, 'nothing decoded');
  const inside = await ask(clip, 'What happens?', { model, segment: [2, 200], strategy: 'concat', frames: 2, maxTokens: 2, contextSize: 512 });
  t.ok(inside.frames.every((f) => f.t >= 2), 'a segment that ends after the video is clipped to it');
});

t.test('an fps plan that cannot fit fails before decoding', async (t) => {
  const { err, stages } = await failure((o) => ask(clip, 'What happens?', { model, fps: 240, strategy: 'concat', contextSize: 1024, ...o }));
  t.ok(err instanceof VidlmError && err.code === 'ERR_CONTEXT_FULL', String(err));
  t.match((err as VidlmError).details, { strategy: 'concat', contextSize: 1024 });
  t.equal(stages.size, 0, 'nothing decoded or encoded');
  const fits = await ask(clip, 'What happens?', { model, fps: 1, strategy: 'concat', contextSize: 1024, maxTokens: 2 });
  t.equal(fits.frames.length, 4, 'one frame a second fits');
});

t.test('generation options are checked before decoding', async (t) => {
  const cases: [Partial<VideoQueryOptions>, string][] = [
    [{ maxTokens: 0 }, 'ERR_INVALID_ARG'],
    [{ maxTokens: 1.5 }, 'ERR_INVALID_ARG'],
    [{ grammar: 'root ::= (' }, 'ERR_GRAMMAR'],
    [{ grammar: 123 as never }, 'ERR_INVALID_ARG'],
    [{ grammar: 'root ::= "a"', jsonSchema: { type: 'string' } }, 'ERR_INVALID_ARG'],
    [{ jsonSchema: 'not json' }, 'ERR_GRAMMAR'],
    [{ stop: 'x' as never }, 'ERR_INVALID_ARG'],
  ];
  for (const [opts, code] of cases) {
    const { err, stages } = await failure((o) => ask(clip, 'What happens?', { model, ...opts, ...o }));
    t.ok(err instanceof VidlmError && err.code === code, `${JSON.stringify(opts)}: ${code} (${String(err)})`);
    t.equal(stages.size, 0, `${JSON.stringify(opts)}: nothing decoded`);
  }
});

t.test('wrong values are coded errors naming the option, never ignored', async (t) => {
  let deep: object = { type: 'string' };
  for (let i = 0; i < 3000; i++) deep = { type: 'array', items: deep };
  const cases: [string, () => Promise<unknown>, string, string?][] = [
    ['ask(null)', () => ask(null as never, 'Hi?', { model }), 'ERR_INVALID_ARG', 'video'],
    ['ask(undefined)', () => ask(undefined as never, 'Hi?', { model }), 'ERR_INVALID_ARG', 'video'],
    ['chat(null)', () => chat(null as never, { model }), 'ERR_INVALID_ARG', 'video'],
    ['question 5', () => ask(still, 5 as never, { model }), 'ERR_INVALID_ARG', 'question'],
    ['no options', () => ask(still, 'Hi?', undefined as never), 'ERR_INVALID_ARG', 'options'],
    ['onProgress: "x"', () => ask(still, 'Hi?', { model, onProgress: 'x' as never }), 'ERR_INVALID_ARG', 'onProgress'],
    ['onToken: 5', () => ask(still, 'Hi?', { model, onToken: 5 as never }), 'ERR_INVALID_ARG', 'onToken'],
    ['jsonSchema 3000 deep', () => ask(still, 'Hi?', { model, jsonSchema: deep }), 'ERR_GRAMMAR'],
    ['preamble: "yes"', () => ask(still, 'Hi?', { model, preamble: 'yes' as never }), 'ERR_INVALID_ARG', 'preamble'],
    ['constrain: "x"', () => localize(clip, 'the dog', { model, constrain: 'x' as never }), 'ERR_INVALID_ARG', 'constrain'],
    ['encodeBatchSize: 0', () => ask(still, 'Hi?', { model, encodeBatchSize: 0 }), 'ERR_INVALID_ARG', 'encodeBatchSize'],
    ['fit: "zoom"', () => ask(still, 'Hi?', { model, fit: 'zoom' as never }), 'ERR_INVALID_ARG', 'fit'],
    ['frames and fps', () => ask(clip, 'Hi?', { model, frames: 4, fps: 1 }), 'ERR_INVALID_ARG', 'frames'],
    ['segment [2, 1]', () => ask(clip, 'Hi?', { model, segment: [2, 1] }), 'ERR_INVALID_ARG', 'segment'],
    ['timeTokens: "yes"', () => ask(clip, 'Hi?', { model, timeTokens: 'yes' as never }), 'ERR_INVALID_ARG'],
    ['system: 5', () => ask(clip, 'Hi?', { model, system: 5 as never }), 'ERR_INVALID_ARG', 'system'],
    ['describe prompt: 5', () => describe(clip, { model, prompt: 5 as never }), 'ERR_INVALID_ARG', 'prompt'],
  ];
  for (const [name, call, code, option] of cases) {
    const err = await call().then(() => null, (e: unknown) => e);
    t.ok(err instanceof VidlmError, `${name}: a VidlmError (${String(err)})`);
    t.equal((err as VidlmError).code, code, name);
    if (option) t.equal((err as VidlmError).details?.option, option, `${name}: names ${option}`);
  }
});

t.test('errors made by the addon are VidlmError by name too', async (t) => {
  const ctx = await model.createContext({ contextSize: 64 });
  const err = await ctx.prefill([{ tokens: Int32Array.of(model.info.nVocab) }]).catch((e: unknown) => e);
  t.ok(err instanceof VidlmError);
  t.equal((err as Error).constructor.name, 'VidlmError');
  t.equal((err as VidlmError).code, 'ERR_INVALID_ARG');
  ctx.dispose();
});

t.test('vidlm localize defaults to SlowFast, as localize() does', async (t) => {
  const m = await tinyModels();
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'localize', clip, 'the counter', '--model', m.model, '--mmproj', m.mmproj, '--max-tokens', '4', '--json', '--ctx-size', '2048']);
  t.equal(JSON.parse(stdout).strategy, 'slowfast');
  const api = await localize(clip, 'the counter', { model, maxTokens: 4, contextSize: 2048 });
  t.equal(api.strategy, 'slowfast');
});
