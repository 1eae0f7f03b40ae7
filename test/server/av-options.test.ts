// `vidlm serve` with sound and subtitles: OpenAI's input_audio part and the vidlm object's
// {audio, audioWindow, subtitles}, through fetch and the official `openai` client, on the tiny
// Qwen2-Audio pair (audio only) and the tiny LLaVA pair (vision, no audio encoder).
import t from 'tap';
import OpenAI from 'openai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../lib/index.js';
import { openVideo } from '../../lib/video/index.js';
import { audioSpan } from '../../lib/pipeline/plan.js';
import { readAudioMedia } from '../../lib/audio/media.js';
import { assemble } from '../../lib/pipeline/index.js';
import { loadSubtitles } from '../../lib/video/subtitles.js';
import { subtitleTranscript } from '../../lib/pipeline/assemble.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, sseData, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
const wavPath = await media.toneBurstWav();
const wav = readFileSync(wavPath).toString('base64');
const mp3Path = join(md.dir, 'toneburst.mp3');
execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', wavPath, '-c:a', 'libmp3lame', '-b:a', '64k', mp3Path]);
copyFileSync(await media.toneBurst(), join(md.dir, 'toneburst.mp4'));
copyFileSync(await media.noAudio(), join(md.dir, 'noaudio.mkv'));
copyFileSync(await media.movText(), join(md.dir, 'movtext.mp4'));
copyFileSync(await media.srt(), join(md.dir, 'subs.srt'));
writeFileSync(join(md.dir, '..', `outside-${process.pid}.srt`), readFileSync(await media.srt()));
t.teardown(() => { try { execFileSync('rm', ['-f', join(md.dir, '..', `outside-${process.pid}.srt`)]); } catch { /* gone */ } });

const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / Math.max(1, a.length));
const audioTurn = (data: string, format: 'wav' | 'mp3' = 'wav', text = 'What do you hear?') =>
  ({ role: 'user', content: [{ type: 'input_audio', input_audio: { data, format } }, { type: 'text', text }] });

t.test('the audio model', async (t) => {
  const { server, url } = await startServer({ model: { model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 }, parallel: 2, mediaPath: md.dir, maxMediaMb: 1 });
  t.teardown(() => server.close());
  const gen = { max_tokens: 3, temperature: 0 };

  t.test('input_audio (wav, mp3): the sound through libmtmd, the embeddings of its real length', async (t) => {
    const r = await post(url, { messages: [audioTurn(wav)], ...gen });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.vidlm.media[0].audio_chunks, 1, 'prefix by default: one clip');
    t.same(r.json.vidlm.media[0].frames, []);
    // real length (the default): 4 s = 100 embeddings, plus the template and question
    const prompt = r.json.usage.prompt_tokens;
    t.ok(prompt > 100 && prompt < 200, `prompt ${prompt}`);
    // padded (libmtmd's form): the clip padded to 30 s is 750 embeddings
    const pad = await post(url, { messages: [audioTurn(wav)], vidlm: { audioLength: 'padded' }, ...gen });
    t.equal(pad.json.usage.prompt_tokens - prompt, 650);
    const mp3 = await post(url, { messages: [audioTurn(readFileSync(mp3Path).toString('base64'), 'mp3')], ...gen });
    t.equal(mp3.status, 200, JSON.stringify(mp3.json));
    // the same sound as mp3: the real length counts the mp3's encoder delay and padding too (about 0.1 s, 3 embeddings)
    t.ok(Math.abs(mp3.json.usage.prompt_tokens - prompt) <= 4, `mp3 ${mp3.json.usage.prompt_tokens} vs wav ${prompt}`);
    // interleaved in 2 s windows: 4 s of sound are two clips of 50 (the same 100 embeddings) and
    // the begin/end strings libmtmd wraps each qwen2a clip in (tokenized one by one)
    const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
    const ctx = await model.createContext({ contextSize: 64 });
    const wrap = ctx.tokenize('<|audio_bos|>').length + ctx.tokenize('<|audio_eos|>').length;
    ctx.dispose();
    model.dispose();
    const two = await post(url, { messages: [audioTurn(wav)], vidlm: { audio: 'interleave', audioWindow: 2 }, ...gen });
    t.equal(two.status, 200, JSON.stringify(two.json));
    t.equal(two.json.vidlm.media[0].audio_chunks, 2);
    t.equal(two.json.usage.prompt_tokens - prompt, wrap);
  });

  t.test("a video's sound (video_url + vidlm.audio), and a video without sound: a warning", async (t) => {
    const r = await post(url, { messages: [videoTurn('toneburst.mp4')], vidlm: { audio: true, audioWindow: 2 }, ...gen });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.equal(r.json.vidlm.media[0].audio_chunks, 2);
    t.equal(r.json.vidlm.media[0].strategy, 'native');
    const none = await post(url, { messages: [videoTurn('noaudio.mkv')], vidlm: { audio: true }, ...gen });
    t.equal(none.status, 400, 'nothing to hear and nothing the model can see');
    t.equal(none.json.error.code, 'invalid_media');
  });

  t.test('bad input: too long for the slot, too large, an unknown format, not audio', async (t) => {
    const full = await post(url, { messages: [audioTurn(wav)], vidlm: { audio: 'interleave', audioWindow: 1, audioLength: 'padded' }, ...gen });
    t.equal(full.status, 400);
    t.equal(full.json.error.code, 'context_length_exceeded', '4 clips of 750 do not fit 2048 - 256');
    t.match(full.json.error.message, /4\.0 s of audio in 4 chunk/);
    t.equal(full.json.error.param, 'vidlm.audio');
    const big = await post(url, { messages: [audioTurn(Buffer.alloc(1_200_000, 1).toString('base64'))], ...gen });
    t.equal(big.status, 413, 'the data-URL limit (--max-media-mb 1)');
    t.equal(big.json.error.code, 'media_too_large');
    t.equal(big.json.error.param, 'messages[0].content[0].input_audio.data');
    const flac = await post(url, { messages: [audioTurn(wav, 'flac' as never)], ...gen });
    t.equal(flac.status, 400);
    t.equal(flac.json.error.code, 'invalid_value');
    const noise = await post(url, { messages: [audioTurn(Buffer.from('not audio at all '.repeat(50)).toString('base64'))], ...gen });
    t.equal(noise.status, 400);
    t.equal(noise.json.error.code, 'invalid_media');
    const pooled = await post(url, { messages: [audioTurn(wav)], vidlm: { strategy: 'concat' }, ...gen });
    t.equal(pooled.status, 400);
    t.equal(pooled.json.error.param, 'vidlm.strategy');
    t.equal(pooled.json.error.vidlm_code, 'ERR_UNSUPPORTED');
  });

  t.test('the openai client: input_audio non-streaming and streaming; two at once agree', async (t) => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: [{ type: 'input_audio' as const, input_audio: { data: wav, format: 'wav' as const } }, { type: 'text' as const, text: 'What do you hear?' }] }];
    const [a, b] = await Promise.all([
      client.chat.completions.create({ model: server.modelId, messages, max_tokens: 4, temperature: 0 }),
      client.chat.completions.create({ model: server.modelId, messages, max_tokens: 4, temperature: 0 }),
    ]);
    t.equal(a.usage!.completion_tokens, 4);
    t.ok(a.usage!.prompt_tokens > 100);
    t.equal(b.choices[0]!.message.content, a.choices[0]!.message.content, 'deterministic at temperature 0, concurrently');
    const stream = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 4, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '', usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) { text += chunk.choices[0]?.delta.content ?? ''; if (chunk.usage) usage = chunk.usage; }
    t.equal(text, a.choices[0]!.message.content, 'the stream says the same');
    t.equal(usage!.prompt_tokens, a.usage!.prompt_tokens);
    // the vidlm object as an extra body field: 2 s clips, one more than the default prefix
    const two = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 1, temperature: 0, vidlm: { audio: 'interleave', audioWindow: 2, audioLength: 'padded' } } as never) as OpenAI.ChatCompletion;
    t.ok(two.usage!.prompt_tokens > a.usage!.prompt_tokens + 750, `${a.usage!.prompt_tokens} → ${two.usage!.prompt_tokens}`);
  });

  t.test('a client that leaves mid-stream frees its slot', async (t) => {
    const ctl = new AbortController();
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, signal: ctl.signal,
      body: JSON.stringify({ messages: [audioTurn(wav)], max_tokens: 1000, stream: true }) });
    t.equal(r.status, 200);
    const reader = r.body!.getReader();
    await reader.read();
    ctl.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 200; i++) {
      const h = await (await fetch(`${url}/health`)).json() as { slots: { busy: number } };
      if (h.slots.busy === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const again = await post(url, { messages: [audioTurn(wav)], stream: true, ...gen });
    t.equal(again.status, 200);
    t.equal(sseData(again.json as string).at(-1), '[DONE]');
  });
});

t.test('the LLaVA model (no audio encoder): sound refused, subtitles in the prompt', async (t) => {
  const { server, url } = await startServer({ parallel: 2, mediaPath: md.dir });
  t.teardown(() => server.close());
  const gen = { max_tokens: 2, temperature: 0, vidlm: { strategy: 'concat', frames: 2 } };

  t.test('input_audio and vidlm.audio: 400 unsupported_value from ERR_UNSUPPORTED, naming the field', async (t) => {
    const r = await post(url, { messages: [audioTurn(wav)], max_tokens: 2 });
    t.equal(r.status, 400);
    t.match(r.json.error, { type: 'invalid_request_error', code: 'unsupported_value', param: 'messages[0].content[0].input_audio.data', vidlm_code: 'ERR_UNSUPPORTED' });
    t.match(r.json.error.message, /no audio encoder/);
    const v = await post(url, { messages: [videoTurn('toneburst.mp4')], max_tokens: 2, vidlm: { audio: true } });
    t.equal(v.status, 400);
    t.match(v.json.error, { code: 'unsupported_value', param: 'vidlm.audio', vidlm_code: 'ERR_UNSUPPORTED' });
    const bad = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 2, vidlm: { audio: 'sometimes' } });
    t.equal(bad.status, 400);
    t.equal(bad.json.error.code, 'invalid_value', 'schema-checked');
    const ok = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 2 });
    t.equal(ok.status, 200, 'the server goes on');
  });

  t.test('subtitles: a track, a language, a file in the media folder: the transcript is in the prompt', async (t) => {
    const plain = await post(url, { messages: [videoTurn('movtext.mp4')], ...gen });
    t.equal(plain.status, 200, JSON.stringify(plain.json));
    t.equal(plain.json.vidlm.media[0].subtitle_cues, 0);
    const track = await post(url, { messages: [videoTurn('movtext.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: true } });
    t.equal(track.status, 200, JSON.stringify(track.json));
    t.equal(track.json.vidlm.media[0].subtitle_cues, 3);
    t.ok(track.json.usage.prompt_tokens > plain.json.usage.prompt_tokens + 20, `${plain.json.usage.prompt_tokens} → ${track.json.usage.prompt_tokens}`);
    t.notOk(track.json.vidlm.media[0].warnings);
    const eng = await post(url, { messages: [videoTurn('movtext.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: 'eng' } });
    t.equal(eng.json.usage.prompt_tokens, track.json.usage.prompt_tokens, 'by language');
    const file = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: 'subs.srt' } });
    t.equal(file.status, 200, JSON.stringify(file.json));
    t.equal(file.json.usage.prompt_tokens, track.json.usage.prompt_tokens, 'the same cues from a .srt beside the clip');
    const url2 = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: `file://${join(md.dir, 'subs.srt')}` } });
    t.equal(url2.json.usage.prompt_tokens, track.json.usage.prompt_tokens, 'as a file:// URL');
    // a video without a subtitle track: a warning, the answer still comes
    const none = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: true } });
    t.equal(none.status, 200);
    t.match(none.json.vidlm.media[0].warnings[0], /subtitles skipped/);
    t.equal(none.json.usage.prompt_tokens, plain.json.usage.prompt_tokens);
  });

  t.test('subtitle files only from inside the media folder', async (t) => {
    const escape = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: `../outside-${process.pid}.srt` } });
    t.equal(escape.status, 403);
    t.match(escape.json.error, { code: 'path_outside_media_path', param: 'vidlm.subtitles' });
    const abs = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: join(md.dir, '..', `outside-${process.pid}.srt`) } });
    t.equal(abs.status, 403);
    const remote = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: 'http://127.0.0.1:1/x.srt' } });
    t.equal(remote.status, 400);
    t.equal(remote.json.error.param, 'vidlm.subtitles');
    const missing = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: 'nope.srt' } });
    t.equal(missing.status, 400);
    t.equal(missing.json.error.code, 'invalid_media');
    for (const bad of ['not a language!', {}, -1, '']) {
      const r = await post(url, { messages: [videoTurn('clip.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: bad } });
      t.equal(r.status, 400, JSON.stringify(bad));
      t.equal(r.json.error.code, 'invalid_value');
    }
  });

  t.test('two subtitle requests at once', async (t) => {
    const body = { messages: [videoTurn('movtext.mp4')], ...gen, vidlm: { ...gen.vidlm, subtitles: true } };
    const [a, b] = await Promise.all([post(url, body), post(url, body)]);
    t.equal(a.status, 200);
    t.equal(b.json.choices[0].message.content, a.json.choices[0].message.content);
    t.equal(b.json.usage.prompt_tokens, a.json.usage.prompt_tokens);
  });
});

t.test('an M-RoPE model (Qwen2-VL, native path): cues after their frame pair, the pairs kept whole', async (t) => {
  const { server, url } = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, mediaPath: md.dir });
  t.teardown(() => server.close());
  const body = { messages: [videoTurn('movtext.mp4')], max_tokens: 2, temperature: 0 };
  // with subtitles the native strategy keeps libmtmd's layout (cues between the markers): compare it with the same layout without them
  const plain = await post(url, { ...body, vidlm: { frames: 4, timeTokens: 'none' } });
  const subs = await post(url, { ...body, vidlm: { frames: 4, subtitles: true } });
  t.equal(subs.status, 200, JSON.stringify(subs.json));
  t.equal(subs.json.vidlm.media[0].subtitle_cues, 3);
  const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  const ctx = await model.createContext({ contextSize: 256 });
  const cueTokens = ctx.tokenize('[0.5s] "The counter starts"\n[1.5s] "Second line / of a cue"\n[3.3s] "A bold end"').length;
  ctx.dispose();
  model.dispose();
  // the cue lines and a newline or two around them; a frame pair split by text would add 16 more embeddings
  const grew = subs.json.usage.prompt_tokens - plain.json.usage.prompt_tokens;
  t.ok(grew >= cueTokens && grew <= cueTokens + 6, `prompt grew by ${grew}, the cue lines are ${cueTokens} tokens`);
});

t.test("a request's video with sound on a model that sees and hears: clips after the frames taken while they played, cues after their frame", async (t) => {
  // the server reads its media through the pipeline (lib/server/video.ts → readVideo): the layout
  // is the pipeline's assemble stage on what sample read, checked here on what goes to libmtmd
  const frame = (t: number) => ({ index: Math.round(t * 30), t, width: 1, height: 1, rgb: new Uint8Array(3) });
  const frames = [0.5, 1.5, 2.5, 3.5].map(frame);
  const times = frames.map((f) => f.t);
  const burst = await openVideo(await media.toneBurst());
  t.teardown(() => burst.close());
  const audio = await readAudioMedia(burst, { mode: 'interleave', window: 1, projector: null, rate: 16000, length: 'real' }, times, audioSpan(burst.probe), 16000);
  const plan = { strategy: 'native' as const, temporalMerge: 1 };
  const q = { timeTokens: 'none' as const, preamble: false };
  const x = assemble({ kind: 'native', frames }, plan, 4, q, () => false, { audio });
  if (x.kind !== 'native') throw new Error('a media-path video');
  const kinds = x.frames.map((it) => ('audio' in it ? 'a' : `f${(it as { t: number }).t}`));
  t.same(kinds, ['f0.5', 'a', 'f1.5', 'a', 'f2.5', 'a', 'f3.5', 'a'], 'by hand: each second of sound after the frame shown in it');
  const loud = x.frames.filter((it): it is { audio: Float32Array } => 'audio' in it).map((c) => rms(c.audio));
  t.ok(loud[2]! > 0.2, `the 2–3 s clip holds the burst (rms ${loud[2]})`);
  for (const k of [0, 1, 3]) t.ok(loud[k]! < 0.02, `clip ${k} is silent`);
  t.equal(audio.chunks.length, 4);
  // with the subtitle track: each cue after the marker of the last frame shown at or before it
  const subs = await openVideo(await media.movText());
  t.teardown(() => subs.close());
  const cues = (await loadSubtitles(subs, true)).track!.cues;
  const y = assemble({ kind: 'native', frames }, plan, 4, q, () => false, { cues });
  if (y.kind !== 'native') throw new Error('a media-path video');
  // frames at 0.5, 1.5, 2.5, 3.5 s; cues from 0.5, 1.5 and 3.25 s: after frames 0, 1 and 2
  t.equal(y.content!('<M>'), '<M>\n[0.5s] "The counter starts"\n<M>\n[1.5s] "Second line / of a cue"\n<M>\n[3.3s] "A bold end"\n<M>');
  t.equal(subtitleTranscript(times, [...cues]), 'Subtitles:\n[0.5s] "The counter starts"\n[1.5s] "Second line / of a cue"\n[3.3s] "A bold end"\n');
});

t.test('a model that sees and hears (the tiny Qwen2.5-Omni pair), end to end: frames and sound in one request', async (t) => {
  const { server, url } = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 }, mediaPath: md.dir, contextSize: 8192 });
  t.teardown(() => server.close());
  const ask = (vidlm: object) => post(url, { messages: [videoTurn('toneburst.mp4')], max_tokens: 2, temperature: 0, vidlm: { frames: 4, ...vidlm } });
  const sounded = { audio: 'interleave', audioWindow: 2, audioLength: 'padded' };
  const [plain, sound, again] = [await ask({}), await ask(sounded), await ask(sounded)];
  t.equal(plain.status, 200, JSON.stringify(plain.json));
  t.equal(sound.status, 200, JSON.stringify(sound.json));
  const med = sound.json.vidlm.media[0];
  t.equal(med.strategy, 'native');
  t.equal(med.frames.length, 4, 'the frames went in');
  t.equal(med.audio_chunks, 2, 'and 4 s of sound in two 2 s clips');
  // each clip is one 30 s Whisper chunk (750 embeddings) and its markers; the frames, no longer
  // side by side, stop merging into pairs: the prompt grows by at least the two clips
  const grew = sound.json.usage.prompt_tokens - plain.json.usage.prompt_tokens;
  t.ok(grew >= 1500 && grew < 1700, `prompt grew by ${grew} tokens with the sound`);
  t.equal(again.json.choices[0].message.content, sound.json.choices[0].message.content, 'the same answer at temperature 0');
});
