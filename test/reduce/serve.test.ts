// serve: vidlm.reduce and vLLM's video_pruning_rate reach the pipeline, bad values are a 400 naming the field before any work.
import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { post, startServer, videoTurn } from '../server/helpers.js';
import { heldClip } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vidlm-reduce-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const clip = join(dir, 'held.mp4');
copyFileSync(await heldClip(), clip);
const { server, url } = await startServer({ mediaPath: dir });
t.teardown(() => server.close());
const gen = { max_tokens: 2, temperature: 0 };
const ask = (extra: object) => post(url, { messages: [videoTurn(clip)], ...gen, ...extra });

t.test('reduce in a request: the kept frames encoded, fewer visual tokens; pruning rate as a ratio', async (t) => {
  const off = await ask({ vidlm: { strategy: 'concat', frames: 12 } });
  t.equal(off.status, 200);
  t.same([off.json.vidlm.media[0].encoded, off.json.vidlm.media[0].visual_tokens], [12, 12 * 64]);
  const on = await ask({ vidlm: { strategy: 'concat', frames: 12, reduce: { codecPlan: false, merge: false } } });
  t.equal(on.status, 200);
  t.same([on.json.vidlm.media[0].frames.length, on.json.vidlm.media[0].visual_tokens], [3, 3 * 64], 'the 3 distinct pictures');
  const rate = await ask({ vidlm: { strategy: 'concat', frames: 12 }, video_pruning_rate: 0.75 });
  t.equal(rate.status, 200);
  t.ok(rate.json.vidlm.media[0].visual_tokens <= 12 * 64 * 0.25, `${rate.json.vidlm.media[0].visual_tokens} tokens at most a quarter`);
});

t.test('bad values: 400 naming the field', async (t) => {
  for (const [body, param] of [[{ vidlm: { reduce: 'max' } }, 'vidlm.reduce'], [{ vidlm: { reduce: { ratio: 3 } } }, 'vidlm.reduce'], [{ video_pruning_rate: 1 }, 'video_pruning_rate'], [{ video_pruning_rate: -0.1 }, 'video_pruning_rate']] as const) {
    const r = await ask(body);
    t.equal(r.status, 400, JSON.stringify(body));
    t.equal(r.json.error.param, param);
  }
});
