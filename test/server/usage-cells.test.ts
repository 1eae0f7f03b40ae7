// usage on a pooled strategy of an M-RoPE model (the tiny Qwen2-VL pair with concat): a frame's
// block takes 16 KV cells but fewer positions, and usage counts what ask() counts (tokens.prompt:
// the cells evaluated), so prompt_tokens is never below the visual tokens it includes, and a
// follow-up's cached_tokens is the first turn's prompt (but the seam). The LLaVA pair (positions =
// cells) for comparison.
import t from 'tap';
import { ask, loadModel } from '../../lib/index.js';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const Q = 'What happens in the video?';
const pairs = await mropeAndLlavaPairs({ mrope: 'concat', llava: 'concat' });

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const model = await loadModel({ ...p.paths, threads: 1 });
    t.teardown(() => model.dispose());
    const { server, url } = await startServer({ model, mediaPath: md.dir, contextSize: 2048 });
    t.teardown(() => server.close());
    const body = { messages: [videoTurn('clip.mp4', Q)], vidlm: { frames: 4, strategy: 'concat' }, temperature: 0, max_tokens: 4 };
    const r = await post(url, body);
    t.equal(r.status, 200, JSON.stringify(r.json));
    const asked = await ask(md.clip, Q, { model, frames: 4, strategy: 'concat', contextSize: 2048, temperature: 0, maxTokens: 4 });
    t.equal(r.json.usage.prompt_tokens, asked.tokens.prompt, "prompt_tokens is ask()'s tokens.prompt");
    t.equal(r.json.vidlm.media[0].visual_tokens, asked.tokens.visual);
    t.ok(r.json.usage.prompt_tokens > r.json.vidlm.media[0].visual_tokens, `prompt ${r.json.usage.prompt_tokens} holds the ${r.json.vidlm.media[0].visual_tokens} visual tokens`);

    const follow = await post(url, { ...body, messages: [videoTurn('clip.mp4', Q), { role: 'assistant', content: r.json.choices[0].message.content }, { role: 'user', content: 'And then?' }] });
    t.equal(follow.status, 200, JSON.stringify(follow.json));
    const cached = follow.json.usage.prompt_tokens_details.cached_tokens;
    t.ok(cached >= r.json.usage.prompt_tokens - 2 && cached < follow.json.usage.prompt_tokens, `cached ${cached}: the first turn's ${r.json.usage.prompt_tokens}, in cells`);
  });
}
