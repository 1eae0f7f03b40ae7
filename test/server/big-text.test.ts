// No big work on the event loop (#29 item 3): a 60 MB text body is parsed on a worker thread and
// refused by its length before anything tokenizes it, a 10 MB subtitle cue likewise, and /health,
// probed from a separate process as a deployment's health checker does, answers within 1 s all the
// while. Text that fits is tokenized on the addon's worker, token for token as on the main thread.
import t from 'tap';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, spawnServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);

/** Runs `work` while a separate process probes /health every 10 ms: the probes' worst latency. */
async function probing(url: string, work: () => Promise<void>): Promise<{ max: number; n: number; ok: boolean }> {
  const probe = fork(fileURLToPath(new URL('./health-probe.mjs', import.meta.url)), [url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => probe.once('message', r));
  const probed = new Promise<{ ms: number; status: number }[]>((r) => probe.once('message', r as never));
  await work();
  await new Promise((r) => setTimeout(r, 200));
  probe.send('stop');
  const seen = await probed;
  return { max: Math.max(...seen.map((p) => p.ms)), n: seen.length, ok: seen.every((p) => p.status === 200) };
}

t.test('a 60 MB text body is refused without stalling /health', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--media-path', md.dir]);
  t.teardown(srv.stop);
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'many words '.repeat(60e6 / 11) }], max_tokens: 2 });
  t.ok(body.length > 60e6 - 100, `the body is ${(body.length / 1e6).toFixed(1)} MB`);
  let r!: { status: number; json: any };
  const h = await probing(srv.url, async () => { r = await post(srv.url, body); });
  t.equal(r.status, 400, JSON.stringify(r.json).slice(0, 300));
  t.equal(r.json.error.code, 'context_length_exceeded');
  t.equal(r.json.error.param, 'messages[0]');
  t.ok(h.ok, 'every probe answered 200');
  t.comment(`/health worst latency while the 60 MB body was parsed and refused: ${h.max.toFixed(0)} ms over ${h.n} probes`);
  t.ok(h.max < 1000, `/health answered within 1 s (worst ${h.max.toFixed(0)} ms)`);
  t.equal((await post(srv.url, { messages: [videoTurn('clip.mp4')], vidlm: { frames: 2 }, max_tokens: 2 })).status, 200, 'the server still serves');
});

t.test('a 10 MB subtitle cue is refused by its length without stalling /health', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--media-path', md.dir]);
  t.teardown(srv.stop);
  writeFileSync(join(md.dir, 'huge.srt'), `1\n00:00:00,500 --> 00:00:03,000\n${'a long line '.repeat(10e6 / 12)}\n\n`);
  let r!: { status: number; json: any };
  const h = await probing(srv.url, async () => { r = await post(srv.url, { messages: [videoTurn('clip.mp4')], vidlm: { frames: 2, subtitles: 'huge.srt' }, max_tokens: 2 }); });
  t.equal(r.status, 400, JSON.stringify(r.json).slice(0, 300));
  t.equal(r.json.error.code, 'context_length_exceeded');
  t.equal(r.json.error.param, 'vidlm.subtitles');
  t.comment(`/health worst latency while the 10 MB cue was read and refused: ${h.max.toFixed(0)} ms over ${h.n} probes`);
  t.ok(h.max < 1000, `/health answered within 1 s (worst ${h.max.toFixed(0)} ms)`);
});

t.test('tokenizeAsync gives the main-thread tokenizer\'s tokens; maxTokenBytes bounds every piece', async (t) => {
  const m = await tinyModels();
  const model = await loadModel({ model: m.model, mmproj: m.mmproj!, threads: 1 });
  t.teardown(() => model.dispose());
  const ctx = await model.createContext({ contextSize: 64 });
  t.teardown(() => ctx.dispose());
  for (const text of ['', 'hello world', 'Ünïcödé 😀 text\nwith lines', 'word '.repeat(5000), '<s> special </s> markers']) {
    t.same(Array.from(await model.handle.tokenizeAsync(text, true)), Array.from(ctx.tokenize(text, { parseSpecial: true })), JSON.stringify(text.slice(0, 30)));
  }
  const most = model.handle.maxTokenBytes();
  let longest = 0;
  for (let id = 0; id < model.info.nVocab; id++) longest = Math.max(longest, Buffer.byteLength(ctx.detokenize(Int32Array.of(id), true)));
  t.ok(most >= longest, `maxTokenBytes ${most} >= the longest detokenized piece ${longest}`);
});
