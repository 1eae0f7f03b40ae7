// The server's KV-prefix matching with a video's sound, on the pooled path (the tiny LLaVA vision +
// Qwen2-Audio pair: audio clips between the frame blocks, blocks named by their samples) and on
// libmtmd's media path (the tiny Qwen2.5-Omni pair, M-RoPE): a follow-up with the same video and
// sound reuses the slot's prefix, a different sound does not, and either answers as a fresh slot.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../lib/index.js';
import { audioKey, knownAudio, planEntries } from '../../lib/server/prefill.js';
import { sharedEntries, type Entry } from '../../lib/server/slots.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
copyFileSync(await media.toneBurst(), join(md.dir, 'toneburst.mp4'));
// the same pictures with another sound: a 300 Hz tone from the start
execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', join(md.dir, 'toneburst.mp4'), '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=16000:d=4',
  '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-shortest', join(md.dir, 'othertone.mp4')]);
const greedy = { temperature: 0, max_tokens: 3 };
const Q = 'What happens in the video?';

t.test('audio blocks: named by their samples, counted once a slot evaluated them, never matched while provisional', async (t) => {
  const a = { audio: new Float32Array([0, 0.5, -0.5, 0]), tokens: 1 };
  t.equal(audioKey(a), audioKey({ audio: Float32Array.from(a.audio), tokens: 1 }), 'the same samples, the same name');
  t.not(audioKey(a), audioKey({ audio: new Float32Array([0, 0.5, -0.5, 0.01]), tokens: 1 }), 'another sound');
  t.not(audioKey(a), audioKey({ audio: a.audio }), 'all embeddings vs the real length');
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const ctx = await model.createContext({ contextSize: 128 });
  t.teardown(() => ctx.dispose());
  const emb = new Float32Array(2 * model.info.nEmbd);
  const next = planEntries(ctx, [{ text: 'hi' }, { embeddings: emb, count: 2 }, a, { text: 'then' }], () => 'frames#0');
  const blocks = next.filter((e): e is Exclude<Entry, number> => typeof e !== 'number');
  t.same(blocks.map((b) => [b.key.slice(0, 6), b.count, !!b.pending]), [['frames', 2, false], ['audio:', 1, true]]);
  // the tokenizer's BOS facts are the native info's (model.info has no addBos: a check on it never ran)
  t.equal(model.native.addBos, true, 'the tiny Qwen2 adds BOS');
  t.equal(next[0], model.native.bosToken, 'BOS first');
  t.equal(next.filter((e) => e === model.native.bosToken).length, 1, 'BOS once: not again after the audio clip');
  const clip = next.findIndex((e) => typeof e !== 'number' && e.pending);
  // a slot that evaluated the clip knows its positions (its 1 embedding and the 2 wrapping strings here)
  const held = next.map((e, i) => (i === clip ? { ...(e as object), count: 3, tokens: 3, visual: [1], pending: false } as Entry : e));
  t.equal(sharedEntries(held, next), clip, 'a provisional block is never shared');
  const known = knownAudio(next, [[], held]);
  t.same(known[clip], { ...(next[clip] as object), count: 3, tokens: 3, visual: [1], pending: false });
  t.equal(sharedEntries(held, known), next.length - 1, 'counted from the slot: everything but the last token');
});

const pairs = [
  { name: 'LLaVA + Qwen2-Audio (pooled)', model: { model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 }, vidlm: { frames: 4, strategy: 'concat', audio: 'interleave', audioWindow: 2 }, strategy: 'concat' },
  { name: 'Qwen2.5-Omni (M-RoPE, media path)', model: { model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 }, vidlm: { frames: 4, audio: 'interleave', audioWindow: 2 }, strategy: 'native' },
];

for (const p of pairs) {
  t.test(`${p.name}: a follow-up with the same video and sound reuses the slot; another sound does not`, async (t) => {
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir, parallel: 1, contextSize: 4096 });
    t.teardown(() => server.close());
    const first = await post(url, { messages: [videoTurn('toneburst.mp4', Q)], vidlm: p.vidlm, ...greedy });
    t.equal(first.status, 200, JSON.stringify(first.json));
    const part = first.json.vidlm.media[0];
    t.equal(part.strategy, p.strategy);
    t.equal(part.audio_chunks, 2, '4 s of sound in 2 s clips');
    // real length: 2 clips of 50 embeddings among the frames' tokens (pooled: 4 × 64)
    if (p.strategy === 'concat') t.equal(part.visual_tokens, 4 * 64 + 2 * 50);
    else t.ok(part.visual_tokens > 100, `visual ${part.visual_tokens}`);
    const history = (clip: string) => [videoTurn(clip, Q), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
    const follow = await post(url, { messages: history('toneburst.mp4'), vidlm: p.vidlm, ...greedy });
    t.equal(follow.status, 200, JSON.stringify(follow.json));
    const cached = follow.json.usage.prompt_tokens_details.cached_tokens;
    t.ok(cached >= first.json.usage.prompt_tokens - 2, `cached ${cached} of the first turn's ${first.json.usage.prompt_tokens}`);
    t.equal(follow.json.vidlm.media[0].visual_tokens, part.visual_tokens, 'the same media tokens reported from the slot');
    // the same pictures with another sound: nothing past the text before the video is kept
    const other = await post(url, { messages: history('othertone.mp4'), vidlm: p.vidlm, ...greedy });
    t.equal(other.status, 200, JSON.stringify(other.json));
    t.ok(other.json.usage.prompt_tokens_details.cached_tokens < 40, `cached ${other.json.usage.prompt_tokens_details.cached_tokens}`);
    // what the reused KV answers is what a fresh slot answers
    const fresh = await startServer({ model: p.model, mediaPath: md.dir, parallel: 1, contextSize: 4096 });
    t.teardown(() => fresh.server.close());
    const again = await post(fresh.url, { messages: history('toneburst.mp4'), vidlm: p.vidlm, ...greedy });
    t.equal(again.json.usage.prompt_tokens, follow.json.usage.prompt_tokens, 'the same prompt tokens');
    t.equal(again.json.usage.prompt_tokens_details.cached_tokens, 0);
    t.equal(again.json.choices[0].message.content, follow.json.choices[0].message.content, 'the same answer as a fresh slot');
    t.equal(again.json.vidlm.media[0].visual_tokens, part.visual_tokens);
  });
}
