// One pipeline under every surface: for one video, question and options, ask(), `vidlm serve`
// (non-streamed, temperature 0), a one-window watch and a one-job batch give the same frames,
// the same prompt tokens and the same text — on a LLaVA pair (pooled), an M-RoPE pair (the
// native path) and with sound and subtitles (the Qwen2.5-Omni pair). Each surface is called as a
// user calls it; none of them is told what the others did.
import t from 'tap';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ask, loadModel, watch, type Model, type WatchWindow } from '../../lib/index.js';
import { runJob } from '../../lib/batch/run-job.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from '../server/helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
copyFileSync(await media.movText(), join(md.dir, 'movtext.mp4'));

const Q = 'What happens in the video?';
const GEN = { maxTokens: 6, temperature: 0 };

interface Pair {
  name: string;
  files: { model: string; mmproj: string };
  clip: string;
  contextSize: number;
  /** The video options every surface takes under the same names (`vidlm` object, ask/watch/batch options). */
  video: { fps: number; audio?: 'interleave'; audioWindow?: number; subtitles?: boolean };
  strategy: string;
}

const pairs: Pair[] = [
  { name: 'LLaVA pair (pooled: auto picks concat)', files: { model: m.model, mmproj: m.mmproj }, clip: 'clip.mp4', contextSize: 2048, video: { fps: 1 }, strategy: 'concat' },
  { name: 'M-RoPE pair (Qwen2-VL: the native path)', files: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj }, clip: 'clip.mp4', contextSize: 2048, video: { fps: 1 }, strategy: 'native' },
  {
    name: 'sound and subtitles (Qwen2.5-Omni)', files: { model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj }, clip: 'movtext.mp4', contextSize: 8192,
    video: { fps: 1, audio: 'interleave', audioWindow: 2, subtitles: true }, strategy: 'native',
  },
];

interface Seen { text: string; prompt: number; frames?: number[]; visual?: number }

async function viaAsk(model: Model, p: Pair): Promise<Seen> {
  const r = await ask(join(md.dir, p.clip), Q, { model, contextSize: p.contextSize, ...p.video, ...GEN });
  t.equal(r.strategy, p.strategy, `ask: ${p.strategy}`);
  return { text: r.text, prompt: r.tokens.prompt, frames: r.frames.map((f) => f.t), visual: r.tokens.visual };
}

async function viaBatch(model: Model, p: Pair): Promise<Seen> {
  const line = await runJob(model, { id: 'one', video: join(md.dir, p.clip), task: 'ask', question: Q, options: { contextSize: p.contextSize, ...p.video, ...GEN } });
  return { text: line.text!, prompt: line.tokens!.prompt };
}

async function viaWatch(model: Model, p: Pair): Promise<Seen> {
  // one window over the whole 4 s clip, frames at the same fps
  const items = [];
  for await (const it of watch(join(md.dir, p.clip), { model, every: 4, window: 4, realtime: false, prompt: Q, contextSize: p.contextSize, ...p.video, ...GEN })) items.push(it);
  const wins = items.filter((x): x is WatchWindow => x.type === 'window');
  t.equal(wins.length, 1, 'watch: one window');
  return { text: wins[0]!.text, prompt: wins[0]!.tokens.prompt, frames: wins[0]!.frameTimes };
}

async function viaServe(p: Pair): Promise<Seen> {
  const { server, url } = await startServer({ model: { ...p.files, threads: 1 }, mediaPath: md.dir, contextSize: p.contextSize });
  try {
    const r = await post(url, { messages: [videoTurn(p.clip, Q)], max_tokens: GEN.maxTokens, temperature: 0, vidlm: p.video });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.vidlm.media[0].strategy, p.strategy, `serve: ${p.strategy}`);
    return { text: r.json.choices[0].message.content, prompt: r.json.usage.prompt_tokens, frames: r.json.vidlm.media[0].frames.map((f: { t: number }) => f.t), visual: r.json.vidlm.media[0].visual_tokens };
  } finally {
    await server.close();
  }
}

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const model = await loadModel({ ...p.files, threads: 1 });
    t.teardown(() => model.dispose());
    const a = await viaAsk(model, p);
    t.ok(a.prompt > a.visual! && a.frames!.length === 4, `ask: ${a.prompt} prompt tokens (${a.visual} media), frames at ${a.frames!.join(', ')}, text ${JSON.stringify(a.text)}`);
    t.ok(a.text.length > 0, 'an answer');
    // the sound went in at its real length (the default): two 2 s clips of 50 embeddings each
    // (32000 samples → 200 mel frames → 100 after the stride-2 conv → 50 after the pool), beside
    // 4 frames at libmtmd's floor of 8 tokens per image chunk (the tiny tower's pictures are small)
    if (p.video.audio) t.equal(a.visual, 2 * 50 + 4 * 8, `media tokens ${a.visual}: the two clips and the four frames`);
    const seen = { batch: await viaBatch(model, p), watch: await viaWatch(model, p), serve: await viaServe(p) };
    for (const [surface, s] of Object.entries(seen)) {
      if (s.frames) t.same(s.frames, a.frames, `${surface}: the same frames`);
      if (s.visual !== undefined) t.equal(s.visual, a.visual, `${surface}: the same media tokens (libmtmd's count on the native path)`);
      t.equal(s.prompt, a.prompt, `${surface}: the same prompt tokens`);
      t.equal(s.text, a.text, `${surface}: the same text`);
    }
  });
}
