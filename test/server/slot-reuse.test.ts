// The server's KV slots on both paths: a follow-up on libmtmd's media path (M-RoPE) keeps the
// video in the slot as the pooled path does, and two different clips asked the same question
// never share cached media (alternated four times at temperature 0).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadModel } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
// a second clip that looks nothing like the counter clip, same length
execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=384x256:rate=30', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(md.dir, 'other.mp4')]);
const greedy = { temperature: 0, max_tokens: 4 };
const Q = 'What happens in the video?';

const pairs = [
  { name: 'M-RoPE pair (media path)', model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, vidlm: { frames: 4 } },
  { name: 'LLaVA pair (pooled path)', model: { model: m.model, mmproj: m.mmproj, threads: 1 }, vidlm: { frames: 4, strategy: 'concat' } },
  { name: 'LLaVA pair (media path, strategy native)', model: { model: m.model, mmproj: m.mmproj, threads: 1 }, vidlm: { frames: 4, strategy: 'native' } },
];

/** Tokens of the rendered prompt before the first media marker: what two clips may share. */
async function textBeforeMedia(model: { model: string; mmproj: string }): Promise<number> {
  const lm = await loadModel({ ...model, threads: 1 });
  try {
    const text = lm.applyTemplate([{ role: 'user', content: `${lm.mediaMarker}\n${Q}` }]);
    const ctx = await lm.createContext({ contextSize: 256 });
    const n = ctx.toItems([{ text: text.slice(0, text.indexOf(lm.mediaMarker)) }], true).reduce((k, it) => k + ('tokens' in it ? it.tokens.length : 0), 0);
    ctx.dispose();
    // and the image wrap before the first embeddings (<|vision_start|> on the Qwen-VL family's own time): the same text for every clip
    return n + lm.imageWrap.before.length;
  } finally {
    lm.dispose();
  }
}

for (const p of pairs) {
  t.test(`${p.name}: a follow-up reuses the slot's video`, async (t) => {
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir });
    t.teardown(() => server.close());
    const first = await post(url, { messages: [videoTurn('clip.mp4', Q)], vidlm: p.vidlm, ...greedy });
    t.equal(first.status, 200, JSON.stringify(first.json));
    const visual = first.json.vidlm.media[0].visual_tokens;
    t.ok(visual > 0, `visual tokens ${visual}`);
    const history = [videoTurn('clip.mp4', Q), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
    const follow = await post(url, { messages: history, vidlm: p.vidlm, ...greedy });
    t.equal(follow.status, 200, JSON.stringify(follow.json));
    const cached = follow.json.usage.prompt_tokens_details.cached_tokens;
    // the first turn's prompt is the video and the question: all of it (but a token at the seam) stays
    t.ok(cached >= first.json.usage.prompt_tokens - 2, `cached ${cached} of the first turn's ${first.json.usage.prompt_tokens}`);
    t.ok(cached >= visual, 'the cached tokens cover the video');
    t.ok(follow.json.usage.prompt_tokens - cached <= follow.json.usage.prompt_tokens - first.json.usage.prompt_tokens + 2, 'only the answer and the new turn are evaluated');
    t.equal(follow.json.vidlm.media[0].visual_tokens, visual, 'the same media tokens reported from the slot');
    if (p.vidlm.strategy !== 'concat') t.equal(follow.json.vidlm.media[0].encoded, 0, 'libmtmd encoded nothing: the frames are in the slot');
    // the same follow-up on a fresh slot gives the same answer: the reused KV is what a fresh prefill makes
    const fresh = await startServer({ model: p.model, mediaPath: md.dir });
    t.teardown(() => fresh.server.close());
    const again = await post(fresh.url, { messages: history, vidlm: p.vidlm, ...greedy });
    t.equal(again.json.usage.prompt_tokens, follow.json.usage.prompt_tokens, 'the same prompt tokens');
    t.equal(again.json.usage.prompt_tokens_details.cached_tokens, 0);
    t.equal(again.json.choices[0].message.content, follow.json.choices[0].message.content, 'the same answer as a fresh slot');
  });

  t.test(`${p.name}: two clips with the same question never share cached media`, async (t) => {
    const shared = await textBeforeMedia(p.model);
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir });
    t.teardown(() => server.close());
    const answers: Record<string, string[]> = { 'clip.mp4': [], 'other.mp4': [] };
    for (let round = 0; round < 4; round++) {
      for (const clip of ['clip.mp4', 'other.mp4']) {
        const r = await post(url, { messages: [videoTurn(clip, Q)], vidlm: p.vidlm, ...greedy });
        t.equal(r.status, 200, JSON.stringify(r.json));
        answers[clip]!.push(r.json.choices[0].message.content);
        const cached = r.json.usage.prompt_tokens_details.cached_tokens;
        // one slot, alternating clips: the slot always holds the other clip, of which only the text before its media may be kept
        if (round > 0 || clip === 'other.mp4') t.ok(cached <= shared, `round ${round} ${clip}: cached ${cached} ≤ the ${shared} tokens before the media`);
      }
    }
    for (const [clip, a] of Object.entries(answers)) t.same(a, Array(4).fill(a[0]), `${clip}: the same answer every time`);
  });
}
