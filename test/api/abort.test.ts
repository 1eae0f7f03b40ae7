// Abort for chat(), localize() and describe(): the signal stops each at the stage where it fires
// (seen through onProgress), with ERR_ABORTED, and the model answers afterwards.
import t from 'tap';
import { chat, describe, localize, type VideoQueryOptions } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModel } from '../inference/helpers.js';

const model = await tinyModel({ cache: false });
t.teardown(() => model.dispose());
const clip = await media.h264();
type Stage = 'decode' | 'encode' | 'prefill' | 'generate';

/** Options that abort the call once it reports `stage`; `stages` records what it reported. */
function abortAt(stage: Stage) {
  const ac = new AbortController();
  const stages: string[] = [];
  const last: Partial<Record<Stage, number>> = {}; // the last fraction each stage reported
  const opts: Partial<VideoQueryOptions> = {
    signal: ac.signal,
    onProgress: (e) => {
      if (stages[stages.length - 1] !== e.stage) stages.push(e.stage);
      last[e.stage] = e.fraction;
      if (e.stage === stage) ac.abort();
    },
  };
  return { opts, stages, last };
}

// 32 frames, encoded one per graph (LLaVA): the encode stage has 31 frames left when its first
// progress report aborts it.
const base = { model, strategy: 'pllava', frames: 32, maxTokens: 24, temperature: 0, contextSize: 2048 } as const;

t.test('chat(): aborting while it encodes the video rejects with ERR_ABORTED', async (t) => {
  const { opts, stages, last } = abortAt('encode');
  const err = await chat(clip, { ...base, ...opts }).catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.same(stages, ['decode', 'encode'], 'no prefill started');
  t.ok(last.encode! < 1, `the encoder stopped at ${last.encode} of its frames`);
});

t.test('chat(): a question aborted while it generates rejects with ERR_ABORTED; the chat goes on', async (t) => {
  const c = await chat(clip, { ...base });
  t.teardown(() => c.dispose());
  const ac = new AbortController();
  let pieces = 0;
  const gen = c.ask('What happens?', { maxTokens: 200, temperature: 0, signal: ac.signal });
  const err = await (async () => { for await (const _ of gen) if (++pieces === 2) ac.abort(); })().catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.ok(err.details.generated < 200, `stopped after ${err.details.generated} of 200 tokens`);
});

t.test('localize(): aborting while it generates rejects with ERR_ABORTED', async (t) => {
  const { opts, stages } = abortAt('generate');
  // unconstrained, so the answer is long (a span grammar ends it after a few tokens)
  const err = await localize(clip, 'The counter shows 60.', { ...base, ...opts, constrain: false, maxTokens: 200 }).catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.same(stages, ['decode', 'encode', 'prefill', 'generate']);
});

t.test('describe(): aborting while it prefills rejects with ERR_ABORTED; the model answers afterwards', async (t) => {
  const { opts, stages } = abortAt('prefill');
  const err = await describe(clip, { ...base, ...opts }).catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.same(stages, ['decode', 'encode', 'prefill']);
  const r = await describe(clip, { ...base, maxTokens: 4 });
  t.equal(r.tokens.generated, 4, 'a describe() after the abort completes');
});
