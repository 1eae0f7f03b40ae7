// A follow-up with sound or subtitles decodes nothing either (#32 item 2: "any repeat of the same
// video with the same options"): the media memo keeps the sound the first read cut and the cues it
// read, so the repeat rebuilds the same audio items (the same samples: the server's prefix keys
// match) and the same cue text without opening the file. Counted at the decoder (decoderTotals:
// frames decoded, sound clips and subtitle tracks read), not by the response's own claim.
import t from 'tap';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoKey } from '../../lib/pipeline/read.js';
import { decoderTotals } from '../../lib/video/video.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
copyFileSync(await media.av10(), join(md.dir, 'av10.mp4'));
copyFileSync(await media.movText(), join(md.dir, 'movtext.mp4'));
const greedy = { temperature: 0, max_tokens: 3 };
const Q = 'What happens in the video?';

const totals = () => ({ ...decoderTotals });
async function counted(url: string, body: unknown) {
  const before = totals();
  const r = await post(url, body);
  if (r.status !== 200) throw new Error(JSON.stringify(r.json));
  const after = totals();
  return { json: r.json, frames: after.framesDecoded - before.framesDecoded, audio: after.audioReads - before.audioReads, subtitles: after.subtitleReads - before.subtitleReads };
}

const cases = [
  { name: 'sound, LLaVA + Qwen2-Audio (pooled)', model: { model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 }, clip: 'av10.mp4', vidlm: { frames: 4, strategy: 'concat', audio: 'interleave' } },
  { name: 'sound, Qwen2.5-Omni (M-RoPE, media path)', model: { model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 }, clip: 'av10.mp4', vidlm: { frames: 4, audio: 'interleave' } },
  { name: 'subtitles, LLaVA pair (pooled)', model: { model: m.model, mmproj: m.mmproj, threads: 1 }, clip: 'movtext.mp4', vidlm: { frames: 4, strategy: 'concat', subtitles: 'eng' } },
  { name: 'subtitles, Qwen2-VL pair (native)', model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, clip: 'movtext.mp4', vidlm: { frames: 4, subtitles: 'eng' } },
];

for (const c of cases) {
  t.test(`${c.name}: the follow-up decodes and reads nothing`, async (t) => {
    const { server, url } = await startServer({ model: c.model, mediaPath: md.dir, contextSize: 4096 });
    t.teardown(() => server.close());
    const first = await counted(url, { messages: [videoTurn(c.clip, Q)], vidlm: c.vidlm, ...greedy });
    const m0 = first.json.vidlm.media[0];
    t.ok(first.frames >= 4, `the first question decoded ${first.frames} frames`);
    if (c.vidlm.audio) {
      t.equal(first.audio, 1, 'and read the sound once');
      t.ok(m0.audio_chunks > 0, `${m0.audio_chunks} audio chunks`);
    } else {
      t.equal(first.subtitles, 1, 'and read the subtitle track once');
      t.ok(m0.subtitle_cues > 0, `${m0.subtitle_cues} cues`);
    }
    const history = [videoTurn(c.clip, Q), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And then?' }];
    const follow = await counted(url, { messages: history, vidlm: c.vidlm, ...greedy });
    const m1 = follow.json.vidlm.media[0];
    t.same([follow.frames, follow.audio, follow.subtitles], [0, 0, 0], 'no frame decoded, no sound or subtitle read');
    t.equal(m1.decoded, 0);
    t.same([m1.audio_chunks, m1.subtitle_cues, m1.frames], [m0.audio_chunks, m0.subtitle_cues, m0.frames], 'the same sound, cues and frames');
    t.ok(follow.json.usage.prompt_tokens_details.cached_tokens >= first.json.usage.prompt_tokens - 2,
      `the slot's prefix covers the first turn, sound and cues included (${follow.json.usage.prompt_tokens_details.cached_tokens} of ${first.json.usage.prompt_tokens})`);
  });
}

t.test('the memo key: every sound and subtitle option counts; a subtitle file of its own is not remembered', async (t) => {
  const q = { strategy: 'concat', timeTokens: 'none', preamble: true, contextSize: 4096, fit: 'pad' } as never;
  const k = (extra: object) => memoKey('id', { ...(q as object), ...extra } as never);
  const base = k({ audio: 'interleave', audioWindow: 2 });
  t.not(base, k({ audio: 'interleave', audioWindow: 3 }), 'the window');
  t.not(base, k({ audio: 'prefix', audioWindow: 2 }), 'the mode');
  t.not(base, k({ audio: 'interleave', audioWindow: 2, audioLength: 'padded' }), 'the length rule');
  t.not(k({}), base, 'with and without sound');
  t.not(k({ subtitles: 'eng' }), k({ subtitles: 'fre' }), 'the subtitle track');
  t.equal(k({ subtitles: 'talk.srt' }), undefined, 'an .srt beside the video can change apart from it');
  t.equal(k({ subtitles: 'TALK.VTT' }), undefined);
});
