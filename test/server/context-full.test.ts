// A slot that fills up, on both position schemes: an answer that runs to the slot's end finishes
// with "length" (streamed or not), and a follow-up that no longer fits is 400
// context_length_exceeded, never a 500. On the M-RoPE pair (native path) the video takes more KV
// cells than positions, so the cells run out while the positions still fit.
import t from 'tap';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';
import { mediaDir, post, sseData, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const pairs = await mropeAndLlavaPairs({ mrope: 'native path', llava: 'pooled' });
const Q = 'What happens in the video?';

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const { server, url } = await startServer({ model: { ...p.paths, threads: 1 }, mediaPath: md.dir, contextSize: 512 });
    t.teardown(() => server.close());
    const body = { messages: [videoTurn('clip.mp4', Q)], vidlm: { frames: 4 }, temperature: 0, max_tokens: 100_000 };

    const r = await post(url, body);
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.choices[0].finish_reason, 'length', 'the answer ran to the end of the slot');
    t.ok(r.json.usage.completion_tokens > 0);

    const s = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    const events = sseData(await s.text());
    t.equal(events.at(-1), '[DONE]');
    const last = JSON.parse(events.at(-2)!);
    t.notOk(last.error, `no error event: ${events.at(-2)}`);
    t.equal(last.choices[0].finish_reason, 'length', 'streamed: finish_reason length');

    // the whole answer and a new question: more than the slot holds
    const follow = await post(url, { ...body, max_tokens: 8, messages: [videoTurn('clip.mp4', Q), { role: 'assistant', content: r.json.choices[0].message.content }, { role: 'user', content: 'And then?' }] });
    t.equal(follow.status, 400, JSON.stringify(follow.json));
    t.equal(follow.json.error?.code, 'context_length_exceeded');

    // and the slot serves the next request
    const again = await post(url, { ...body, max_tokens: 4 });
    t.equal(again.status, 200, JSON.stringify(again.json));
  });
}
