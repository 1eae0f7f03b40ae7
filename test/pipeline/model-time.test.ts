// timeTokens 'model' on the tiny Qwen2-VL, Qwen2.5-VL and Qwen3-VL pairs, on every surface: the
// default of the native strategy there. What is evaluated is checked against numbers computed here
// from the frames' real times (the KV cells less the positions the chat ends at, the timestamp text),
// the encoder's own counters show frame pairs encoded once (ask again, chat follow-ups, two asks at
// once), a server follow-up reuses the video's KV, a batch job and the CLI answer.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ask, chat, countMediaTokens, loadModel, watch, type Model, type WatchWindow } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from '../server/helpers.js';

const m = await tinyModels();
// variable frame rate: 30 fps for 2 s, then 10 fps; 6 frames by index land at uneven times (0, 0.57, 1.17, 1.77, 3.1, 4.9)
const clip = await media.vfr();
const gen = { maxTokens: 2, temperature: 0 };
const run = promisify(execFile);
const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
const encoded = () => native().encoderCounters().framesEncoded;
const families = [['qwen2vl', m.qwen2vlModel, m.qwen2vlMmproj], ['qwen25vl', m.qwen2vlModel, m.qwen25vlMmproj], ['qwen3vl', m.qwen3vlModel, m.qwen3vlMmproj]] as const;
const GRID = 4; // a 112×112 frame pair: 8×8 patches merged 2×2

/** Positions the video takes, by the processors' rules written out here from the frame times (docs/methods.md). */
function mediaPositions(family: string, times: number[]): number {
  const firsts = times.filter((_, i) => i % 2 === 0);
  if (family === 'qwen3vl') return firsts.length * GRID; // one one-step grid per pair, each max(h, w)
  const t = family === 'qwen2vl' ? firsts.map((_, k) => k) : firsts.map((s) => Math.floor((s - times[0]!) * 2 + 1e-9));
  return Math.max(...t, GRID - 1) + 1;
}

/** Qwen3-VL's timestamps: the mean of each pair (a lone last frame with itself), one decimal (no exact ties here). */
function timestamps(times: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < times.length; i += 2) out.push(`<${((times[i]! + times[Math.min(i + 1, times.length - 1)]!) / 2).toFixed(1)} seconds>`);
  return out;
}

for (const [family, model_, mmproj] of families) {
  t.test(`${family}: ask() sends the family's layout by default; pairs encoded once`, async (t) => {
    const model = await loadModel({ model: model_, mmproj, threads: 1 });
    t.teardown(() => model.dispose());
    const o = { model, frames: 6, contextSize: 2048 };
    const c = await countMediaTokens(clip, o);
    const before = encoded();
    const r = await ask(clip, 'What happens?', { ...o, ...gen });
    t.equal(encoded() - before, 3, '6 frames: 3 pairs through the encoder');
    const times = r.frames.map((f) => f.t);
    t.ok(times[4]! - times[2]! > times[2]! - times[0]! + 0.5, `uneven times ${times.map((x) => x.toFixed(2)).join(', ')}`);
    t.equal(r.strategy, 'native');
    t.same([r.tokens.visual, c.frameTokens], [3 * GRID * GRID, 3 * GRID * GRID], 'countMediaTokens = evaluated: 3 pairs of 4×4');

    // libmtmd's layout ('none'): the same pairs, each an image at the next free position (4 positions each)
    const none = await ask(clip, 'What happens?', { ...o, timeTokens: 'none', ...gen });
    const wrap = model.handle.countTokens('<|vision_start|>') + model.handle.countTokens('<|vision_end|>');
    const stamps = timestamps(times);
    const text = family === 'qwen3vl' ? stamps.reduce((n, s) => n + model.handle.countTokens(s), 0) : -(stamps.length - 1) * wrap;
    const positions = mediaPositions(family, times);
    // the native strategy counts its prompt in positions (the KV position the prompt ends at)
    t.equal(r.tokens.prompt, none.tokens.prompt - 3 * GRID + text + positions,
      `the video takes ${positions} positions; ${family === 'qwen3vl' ? `the text adds ${stamps.join(' ')}` : 'one <|vision_start|> … <|vision_end|> around the whole grid, not one per pair'}`);

    const ch = await chat(clip, { model, frames: 6 });
    const first = await ch.ask('What happens?', gen).turn;
    t.equal(first.nPast, r.tokens.prompt + r.tokens.generated, 'the chat ends at that position');
    t.equal(first.text, r.text, 'the chat and ask() answer alike');

    // encode-once: again, a follow-up and a fork encode nothing
    const again = encoded();
    const r2 = await ask(clip, 'What happens?', { ...o, ...gen });
    const fork = await ch.fork();
    const history = [...ch.history];
    const second = await ch.ask('And then?', gen).turn;
    const forked = await fork.ask('And then?', gen).turn;
    t.equal(encoded() - again, 0, 'no encoder run for a repeat, a follow-up or a fork');
    t.equal(r2.text, r.text);
    t.equal(second.evaluated, ch.context.tokenize(model.formatTurn(history, { role: 'user', content: 'And then?' })).length, 'a follow-up evaluates only its turn');
    t.equal(forked.evaluated, second.evaluated, 'so does a fork');
    await fork.dispose();
    await ch.dispose();
  });
}

t.test('watch() without sound: each window encodes only the frame pairs no earlier window encoded', async (t) => {
  const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const h264 = await media.h264();
  const before = encoded();
  const wins: WatchWindow[] = [];
  for await (const x of watch(h264, { model, every: 1, window: 2, fps: 2, realtime: false, maxTokens: 2, temperature: 0 })) if (x.type === 'window') wins.push(x);
  t.ok(wins.length >= 3, `${wins.length} windows`);
  const seen = new Set<string>();
  let reused = 0;
  for (const w of wins) {
    const ts = w.frameTimes;
    const pairs = Array.from({ length: Math.ceil(ts.length / 2) }, (_, k) => `${ts[2 * k]}|${ts[Math.min(2 * k + 1, ts.length - 1)]}`);
    const fresh = pairs.filter((p) => !seen.has(p));
    const frames = fresh.reduce((n, p) => n + new Set(p.split('|')).size, 0);
    t.equal(w.encoded, frames, `window ending at ${w.windowEnd}: ${w.encoded} frames encoded, those of its ${fresh.length} new of ${pairs.length} pairs`);
    reused += pairs.length - fresh.length;
    pairs.forEach((p) => seen.add(p));
  }
  t.ok(reused > 0, `${reused} pairs taken from earlier windows`);
  t.equal(encoded() - before, seen.size, 'the encoder ran once per distinct pair');
});

t.test('two asks at once on one model: both answer as one alone does', async (t) => {
  const model = await loadModel({ model: m.qwen3vlModel, mmproj: m.qwen3vlMmproj, threads: 1, cache: false });
  t.teardown(() => model.dispose());
  const o = { model, frames: 4, contextSize: 1024, ...gen };
  const alone = await ask(clip, 'What happens?', o);
  const [a, b] = await Promise.all([ask(clip, 'What happens?', o), ask(clip, 'What happens?', { ...o, segment: [1, 4] as [number, number] })]);
  t.equal(a.text, alone.text);
  t.same([a.tokens, b.tokens.visual], [alone.tokens, 2 * GRID * GRID]);
});

t.test("timeTokens 'model' is checked before any work", async (t) => {
  const llava = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => llava.dispose());
  const qwen = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => qwen.dispose());
  await t.rejects(ask('/nonexistent.mp4', 'q', { model: llava, timeTokens: 'model' }), { code: 'ERR_UNSUPPORTED', message: /Qwen2-VL, Qwen2.5-VL or Qwen3-VL/ });
  await t.rejects(ask('/nonexistent.mp4', 'q', { model: qwen, strategy: 'concat', timeTokens: 'model' }), { code: 'ERR_UNSUPPORTED', message: /native strategy/ });
  await t.rejects(ask(clip, 'q', { model: qwen, timeTokens: 'model', subtitles: true }), { code: 'ERR_UNSUPPORTED', message: /subtitles/ });
  await t.rejects(ask(clip, 'q', { model: qwen, timeTokens: 'modl' as 'model' }), { code: 'ERR_INVALID_ARG' });
});

t.test('vidlm serve: a follow-up reuses the video (cached_tokens cover it) and encodes nothing', async (t) => {
  const md = await mediaDir();
  t.teardown(md.cleanup);
  const { server, url } = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, mediaPath: md.dir });
  t.teardown(() => server.close());
  const vidlm = { frames: 4 };
  const first = await post(url, { messages: [videoTurn('clip.mp4', 'What happens?')], vidlm, max_tokens: 2, temperature: 0 });
  t.equal(first.status, 200, JSON.stringify(first.json).slice(0, 300));
  const history = [videoTurn('clip.mp4', 'What happens?'), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
  const before = encoded();
  const follow = await post(url, { messages: history, vidlm, max_tokens: 2, temperature: 0 });
  t.equal(follow.status, 200);
  t.equal(encoded() - before, 0, 'the follow-up encoded no frame');
  const cached = follow.json.usage.prompt_tokens_details.cached_tokens;
  t.ok(cached >= first.json.usage.prompt_tokens - 1, `cached ${cached} of the first turn's ${first.json.usage.prompt_tokens} tokens (the video's ${2 * GRID * GRID} cells included)`);
  const bad = await post(url, { messages: [videoTurn('clip.mp4', 'What happens?')], vidlm: { timeTokens: 'model', strategy: 'slowfast' }, max_tokens: 2 });
  t.equal(bad.status, 400, 'model time with a pooled method: a clear 400');
});

t.test('CLI: vidlm ask --time-tokens model on the Qwen3-VL pair, and a batch job', async (t) => {
  const args = ['--model', m.qwen3vlModel, '--mmproj', m.qwen3vlMmproj, '--threads', '1', '--frames', '4', '--max-tokens', '2', '--temp', '0'];
  const r = JSON.parse((await run(process.execPath, [cli, 'ask', clip, 'What happens?', ...args, '--time-tokens', 'model', '--json'])).stdout);
  t.same([r.strategy, r.tokens.visual, r.tokens.generated], ['native', 2 * GRID * GRID, 2]);
  const dir = t.testdir({ 'jobs.jsonl': `${JSON.stringify({ id: 'q', video: clip, task: 'ask', question: 'What happens?', options: { frames: 4, timeTokens: 'model', maxTokens: 2 } })}\n` });
  const out = join(dir, 'out.jsonl');
  await run(process.execPath, [cli, 'batch', join(dir, 'jobs.jsonl'), '--out', out, ...args.slice(0, 6)]);
  const line = JSON.parse(readFileSync(out, 'utf8').trim());
  t.notOk(line.error, JSON.stringify(line.error));
  t.same([line.id, line.tokens.visual, line.tokens.generated], ['q', 2 * GRID * GRID, 2], 'the job ran: 2 pairs of 4×4');
});

export type { Model };
