// A follow-up decodes nothing (issue #32): the server remembers each video's frame times under its
// identity (real path, size, mtime) and the request's sampling options, and takes the frames'
// embeddings (pooled) or the slot's KV prefix (native) instead of decoding again. Counted at the
// native decoder (the addon's walk stats, summed process-wide in decoderTotals), not by the
// response's own claim; the response's `decoded` must agree with it.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { decoderTotals } from '../../lib/video/video.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
const greedy = { temperature: 0, max_tokens: 3 };
const Q = 'What happens in the video?';

// `cache`: the frames' embeddings are kept in the model's cache (pooled, and the native strategy on the Qwen-VL family's own time, its default)
const pairs = [
  { name: 'LLaVA pair (pooled path)', model: { model: m.model, mmproj: m.mmproj, threads: 1 }, vidlm: { frames: 4, strategy: 'concat' }, cache: true },
  { name: "Qwen2-VL pair (native, the model's own time)", model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, vidlm: { frames: 4 }, cache: true },
  { name: "Qwen2-VL pair (native, libmtmd's layout)", model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, vidlm: { frames: 4, timeTokens: 'none' }, cache: false },
];

/** A request and the frames the decoder decoded while it ran. */
async function counted(url: string, body: unknown): Promise<{ json: any; decodedHere: number }> {
  const before = decoderTotals.framesDecoded;
  const r = await post(url, body);
  if (r.status !== 200) throw new Error(JSON.stringify(r.json));
  return { json: r.json, decodedHere: decoderTotals.framesDecoded - before };
}

for (const [k, p] of pairs.entries()) {
  t.test(`${p.name}: a follow-up decodes nothing; a touched file decodes again`, async (t) => {
    const clip = `follow-${k}.mp4`;
    copyFileSync(md.clip, join(md.dir, clip));
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir });
    t.teardown(() => server.close());
    const first = await counted(url, { messages: [videoTurn(clip, Q)], vidlm: p.vidlm, ...greedy });
    const m0 = first.json.vidlm.media[0];
    t.ok(first.decodedHere >= 4, `the first question decoded ${first.decodedHere} frames`);
    t.equal(m0.decoded, first.decodedHere, 'the response reports what the decoder did');
    t.equal(m0.encoded, 4, 'and encoded the 4 frames');

    const history = [videoTurn(clip, Q), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
    const follow = await counted(url, { messages: history, vidlm: p.vidlm, ...greedy });
    const m1 = follow.json.vidlm.media[0];
    t.equal(follow.decodedHere, 0, 'the follow-up decoded no frame');
    t.same([m1.decoded, m1.encoded, m1.cached], [0, 0, 4], 'decoded 0, encoded 0, cached 4');
    t.same(m1.frames, m0.frames, 'the same frames (indices and times) as the first question');
    t.ok(follow.json.usage.prompt_tokens_details.cached_tokens >= first.json.usage.prompt_tokens - 2, 'the prefix came from the slot');

    // a new mtime is a new identity: the next request decodes (and encodes) again
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(md.dir, clip), later, later);
    const touched = await counted(url, { messages: history, vidlm: p.vidlm, ...greedy });
    const m2 = touched.json.vidlm.media[0];
    t.ok(touched.decodedHere >= 4, `after touching the file: ${touched.decodedHere} frames decoded`);
    t.equal(m2.decoded, touched.decodedHere);
    t.same([m2.encoded, m2.cached], [4, 0], 'encoded again: the old embeddings are not this file\'s');
    t.equal(touched.json.choices[0].message.content, follow.json.choices[0].message.content, 'the same answer from the same pixels');
  });

  t.test(`${p.name}: a repeat after another video (the slot holds the other one)`, async (t) => {
    const a = `repeat-a-${k}.mp4`, b = `repeat-b-${k}.mp4`;
    copyFileSync(md.clip, join(md.dir, a));
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(md.dir, b)]);
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir });
    t.teardown(() => server.close());
    const first = await counted(url, { messages: [videoTurn(a, Q)], vidlm: p.vidlm, ...greedy });
    await counted(url, { messages: [videoTurn(b, Q)], vidlm: p.vidlm, ...greedy });
    const again = await counted(url, { messages: [videoTurn(a, Q)], vidlm: p.vidlm, ...greedy });
    const m2 = again.json.vidlm.media[0];
    if (p.cache) {
      // pooled or the model's own time: the embeddings are in the cache, the slot's other video does not matter
      t.equal(again.decodedHere, 0, 'nothing decoded: the embeddings come from the cache');
      t.same([m2.decoded, m2.encoded, m2.cached], [0, 0, 4]);
    } else {
      // native: libmtmd needs the pixels when no slot holds the prefix; decoded at the remembered times
      t.ok(again.decodedHere >= 4, `the frames decoded for libmtmd (${again.decodedHere})`);
      t.equal(m2.decoded, again.decodedHere, 'and reported');
      t.equal(m2.encoded, 4);
    }
    t.same(m2.frames, first.json.vidlm.media[0].frames, 'the same frames');
    t.equal(again.json.choices[0].message.content, first.json.choices[0].message.content, 'the same answer as the first time');
    t.equal(again.json.usage.prompt_tokens, first.json.usage.prompt_tokens);
  });

  t.test(`${p.name}: two concurrent first requests for one video decode it once`, async (t) => {
    const clip = `both-${k}.mp4`;
    copyFileSync(md.clip, join(md.dir, clip));
    const { server, url } = await startServer({ model: p.model, mediaPath: md.dir, parallel: 2 });
    t.teardown(() => server.close());
    const before = decoderTotals.framesDecoded;
    const [a, b] = await Promise.all([
      post(url, { messages: [videoTurn(clip, Q)], vidlm: p.vidlm, ...greedy }),
      post(url, { messages: [videoTurn(clip, 'Which colours are there?')], vidlm: p.vidlm, ...greedy }),
    ]);
    t.equal(a.status, 200, JSON.stringify(a.json));
    t.equal(b.status, 200, JSON.stringify(b.json));
    const total = decoderTotals.framesDecoded - before;
    const reported = [a.json.vidlm.media[0].decoded, b.json.vidlm.media[0].decoded].sort((x, y) => x - y);
    t.equal(reported[0], 0, 'one of them decoded nothing');
    t.ok(reported[1] >= 4, `the other decoded the video (${reported[1]} frames)`);
    t.equal(total, reported[1], `the decoder decoded ${total} frames in all: the video once`);
    t.same(a.json.vidlm.media[0].frames, b.json.vidlm.media[0].frames, 'both got the same frames');
  });
}
