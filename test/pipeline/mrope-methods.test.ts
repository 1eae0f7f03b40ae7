// The papers' methods on an M-RoPE model (the tiny Qwen2-VL pair), on every surface: ask() with
// each strategy and time style (media tokens counted before = evaluated), the positions the
// context ends at (each pooled grid takes max(nx, ny) positions, not nx·ny), chat() follow-ups,
// watch() without sound (each frame encoded once), a server follow-up reusing the video's KV,
// a batch job, and the CLI.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ask, chat, countMediaTokens, loadModel, type WatchItem, type WatchWindow } from '../../lib/index.js';
import { watch } from '../../lib/watch/watch.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from '../server/helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
t.teardown(() => model.dispose());
const clip = await media.h264();
const gen = { maxTokens: 2, temperature: 0 };
const run = promisify(execFile);
const cli = new URL('../../dist/cli.js', import.meta.url).pathname;

// 4 frames of 112×112 → 4×4 merged grids. By hand: concat 4·16; slowfast 4 fast + 4 slow 2×2;
// pllava and bilinear 4 · 2×2; vcgpt max(4, 100) + 16.
const byHand = { concat: 64, slowfast: 20, pllava: 16, bilinear: 16, vcgpt: 116 } as const;
// positions the media take: a grid max(nx, ny), a 1×1 token one
const spans = { concat: 4 * 4, slowfast: 4 + 4 * 2, pllava: 4 * 2, bilinear: 4 * 2, vcgpt: 100 + 4 } as const;

t.test('ask(): every method and time style answers on M-RoPE; counted = evaluated', async (t) => {
  for (const strategy of ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'] as const) {
    for (const timeTokens of ['none', 'text', 'lita'] as const) {
      const o = { model, strategy, timeTokens, frames: 4, contextSize: 2048 };
      const c = await countMediaTokens(clip, o);
      const r = await ask(clip, 'What happens?', { ...o, ...gen });
      t.equal(r.strategy, strategy);
      t.equal(r.tokens.visual, byHand[strategy], `${strategy}/${timeTokens}: ${byHand[strategy]} visual tokens`);
      t.equal(c.frameTokens, r.tokens.visual, `${strategy}/${timeTokens}: countMediaTokens = evaluated`);
      t.equal(r.tokens.generated, 2);
    }
  }
});

t.test('the Qwen2.5-VL and Qwen3-VL pairs: every method answers, counted = evaluated', async (t) => {
  for (const [name, pair] of [['qwen2.5vl', { model: m.qwen2vlModel, mmproj: m.qwen25vlMmproj }], ['qwen3vl', { model: m.qwen3vlModel, mmproj: m.qwen3vlMmproj }]] as const) {
    const other = await loadModel({ ...pair, threads: 1 });
    t.teardown(() => other.dispose());
    t.equal(other.info.mrope, true, `${name}: M-RoPE`);
    for (const strategy of ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'] as const) {
      const o = { model: other, strategy, timeTokens: strategy === 'slowfast' ? 'lita' as const : 'text' as const, frames: 4, contextSize: 2048 };
      const c = await countMediaTokens(clip, o);
      const r = await ask(clip, 'What happens?', { ...o, ...gen });
      t.equal(r.tokens.visual, c.frameTokens, `${name} ${strategy}: ${c.frameTokens} counted = evaluated`);
      t.equal(r.tokens.generated, 2);
    }
  }
});

t.test('chat(): the prompt ends at M-RoPE positions (grids take max(nx, ny)); follow-ups and forks evaluate only their turn', async (t) => {
  for (const strategy of ['concat', 'slowfast', 'vcgpt'] as const) {
    const c = await chat(clip, { model, strategy, frames: 4 });
    const first = await c.ask('What happens?', gen).turn;
    const asked = await ask(clip, 'What happens?', { model, strategy, frames: 4, ...gen });
    // the same prompt's KV cells (ask() counts every embedding) less the position the chat ended at: what the grids saved
    t.equal(asked.tokens.prompt + asked.tokens.generated - first.nPast, byHand[strategy] - spans[strategy],
      `${strategy}: the KV holds ${byHand[strategy]} media cells at ${spans[strategy]} positions`);
    const before = [...c.history];
    const fork = await c.fork();
    const second = await c.ask('And then?', gen).turn;
    const delta = model.formatTurn(before, { role: 'user', content: 'And then?' });
    t.equal(second.evaluated, c.context.tokenize(delta).length, `${strategy}: a follow-up evaluates only its formatted turn`);
    const forked = await fork.ask('And then?', gen).turn;
    t.equal(forked.evaluated, second.evaluated, `${strategy}: so does a fork`);
    t.equal(forked.text, second.text, 'and answers the same');
    await fork.dispose();
    await c.dispose();
  }
});

t.test('watch() without sound on M-RoPE with a pooled method: each window encodes only its new frames', async (t) => {
  const items: WatchItem[] = [];
  let encodes = 0;
  const enc = model.encodeWithStats.bind(model);
  model.encodeWithStats = (frames, o) => { encodes += frames.length; return enc(frames, o); };
  t.teardown(() => { model.encodeWithStats = enc; });
  for await (const x of watch(clip, { model, strategy: 'concat', every: 1, window: 2, fps: 2, realtime: false, maxTokens: 2, temperature: 0 })) items.push(x);
  const wins = items.filter((x): x is WatchWindow => x.type === 'window');
  t.ok(wins.length >= 3, `${wins.length} windows`);
  const seen = new Set<number>();
  for (const w of wins) {
    const fresh = w.frameTimes.filter((v) => !seen.has(v));
    t.equal(w.encoded, fresh.length, `window ending at ${w.windowEnd}: ${w.encoded} encodes for ${fresh.length} new of ${w.frames} frames`);
    fresh.forEach((v) => seen.add(v));
  }
  t.equal(encodes, seen.size, 'every frame encoded once over the watch');
});

t.test('vidlm serve: a follow-up on a pooled M-RoPE video reuses its KV (cached_tokens cover the video)', async (t) => {
  const md = await mediaDir();
  t.teardown(md.cleanup);
  const { server, url } = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, mediaPath: md.dir });
  t.teardown(() => server.close());
  const vidlm = { strategy: 'slowfast', timeTokens: 'lita', frames: 4 };
  const first = await post(url, { messages: [videoTurn('clip.mp4', 'What happens?')], vidlm, max_tokens: 2, temperature: 0 });
  t.equal(first.status, 200, JSON.stringify(first.json).slice(0, 300));
  const history = [videoTurn('clip.mp4', 'What happens?'), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
  const follow = await post(url, { messages: history, vidlm, max_tokens: 2, temperature: 0 });
  t.equal(follow.status, 200);
  const cached = follow.json.usage.prompt_tokens_details.cached_tokens;
  t.ok(cached >= first.json.usage.prompt_tokens - 1, `cached ${cached} of the first turn's ${first.json.usage.prompt_tokens} tokens (the video's ${byHand.slowfast} included)`);
  const again = await post(url, { messages: history, vidlm, max_tokens: 2, temperature: 0 });
  t.equal(again.json.choices[0].message.content, follow.json.choices[0].message.content, 'the reused KV answers as a fresh evaluation would');
});

t.test('CLI: vidlm ask --strategy slowfast --time-tokens lita on the Qwen2-VL and Qwen3-VL pairs, and a batch job', async (t) => {
  const args = ['--model', m.qwen2vlModel, '--mmproj', m.qwen2vlMmproj, '--threads', '1', '--frames', '4', '--max-tokens', '2', '--temp', '0'];
  const { stdout } = await run(process.execPath, [cli, 'ask', clip, 'What happens?', ...args, '--strategy', 'slowfast', '--time-tokens', 'lita', '--json']);
  const r = JSON.parse(stdout);
  t.equal(r.strategy, 'slowfast');
  t.equal(r.tokens.visual, byHand.slowfast);
  const q3 = JSON.parse((await run(process.execPath, [cli, 'ask', clip, 'What happens?', ...args.slice(4), '--model', m.qwen3vlModel, '--mmproj', m.qwen3vlMmproj, '--strategy', 'slowfast', '--time-tokens', 'lita', '--json'])).stdout);
  t.same([q3.strategy, q3.tokens.visual, q3.tokens.generated], ['slowfast', byHand.slowfast, 2], 'the Qwen3-VL pair too');
  const dir = t.testdir({ 'jobs.jsonl': `${JSON.stringify({ id: 'q', video: clip, task: 'ask', question: 'What happens?', options: { strategy: 'pllava', frames: 4, timeTokens: 'text', maxTokens: 2 } })}\n` });
  const out = join(dir, 'out.jsonl');
  await run(process.execPath, [cli, 'batch', join(dir, 'jobs.jsonl'), '--out', out, '--model', m.qwen2vlModel, '--mmproj', m.qwen2vlMmproj, '--threads', '1']);
  const line = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8').trim());
  t.equal(line.id, 'q');
  t.notOk(line.error, JSON.stringify(line.error));
  t.equal(line.tokens.visual, byHand.pllava, 'the job ran PLLaVA pooling: 4 frames of 2×2');
  t.equal(line.tokens.generated, 2);
});
