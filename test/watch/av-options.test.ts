// watch() with sound and subtitles: each window's audio goes with that window's frames (checked
// from the PCM of each clip: the tone burst at 2.0–2.5 s is in the window that covers it, and in
// the clip after the frames taken while it played), cues in the window they were shown in, the
// audio-only Qwen2-Audio fixture end to end, live streams (a warning), abort and concurrency.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import t from 'tap';
import { ask, loadModel, type Model, type WatchItem, type WatchWarning, type WatchWindow } from '../../lib/index.js';
import { watch, watchWith } from '../../lib/watch/watch.js';
import type { WindowQuestion } from '../../lib/watch/respond.js';
import { windowCues } from '../../lib/watch/extras.js';
import { media, SUBS } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { freeUdpPort } from '../fixtures/ports.js';
import { tinyModel } from '../inference/helpers.js';
import { Context, type ContextPlan } from '../../lib/inference/context.js';
import { colourSource } from './helpers.js';

const m = await tinyModels();
const hearing = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
t.teardown(() => hearing.dispose());
const seeing = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => seeing.dispose());

const windowsOf = (items: WatchItem[]) => items.filter((x): x is WatchWindow => x.type === 'window');
const warningsOf = (items: WatchItem[]) => items.filter((x): x is WatchWarning => x.type === 'warning');
async function collect(it: AsyncIterable<WatchItem>): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / Math.max(1, a.length));

/** The tiny LLaVA pair told it also hears (a Whisper-less projector: its audio count is unknown, so no budget); answers come from a stub. */
async function seeingAndHearing(): Promise<Model> {
  const x = await tinyModel({ cache: false, threads: 1 });
  (x as { info: Model['info'] }).info = { ...x.info, audio: true, audioSampleRate: 16000 };
  return x;
}

t.test('the audio-only model on a wav: one window of sound each, the burst in the window that covers it', async (t) => {
  const seen: WindowQuestion[] = [];
  const w = watchWith(await media.toneBurstWav(), { model: hearing, every: 1, window: 1, realtime: false }, { answer: (q) => { seen.push(q); return 'ok'; } });
  const wins = windowsOf(await collect(w));
  t.same(wins.map((x) => [x.windowStart, x.windowEnd]), [[0, 1], [1, 2], [2, 3], [3, 4]]);
  t.same(wins.map((x) => x.frames), [0, 0, 0, 0], 'no pictures: the model does not see');
  t.same(wins.map((x) => x.audioChunks), [1, 1, 1, 1], "'prefix' by default: the window's sound as one clip");
  t.same(seen.map((q) => q.media!.map((s) => s.kind)), [['audio'], ['audio'], ['audio'], ['audio']]);
  const clips = seen.map((q) => (q.media![0] as { samples: Float32Array }).samples);
  t.same(clips.map((c) => c.length), [16000, 16000, 16000, 16000], 'one second at the encoder rate');
  // the burst: half a second of a 0.5 sine in [2, 3): rms 0.5/√2·√0.5 ≈ 0.25; the other windows are silent
  t.ok(rms(clips[2]!) > 0.2 && rms(clips[2]!) < 0.3, `window 2 rms ${rms(clips[2]!)}`);
  for (const k of [0, 1, 3]) t.ok(rms(clips[k]!) < 0.02, `window ${k} silent (rms ${rms(clips[k]!)})`);
});

t.test("the audio-only model on a video's sound, end to end: each window prefills its 2 s of audio embeddings on one context", async (t) => {
  const contexts: unknown[] = [];
  const create = hearing.createContext.bind(hearing);
  hearing.createContext = async (o) => { const c = await create(o); contexts.push(c); return c; };
  t.teardown(() => { hearing.createContext = create; });
  const w = watch(await media.toneBurst(), { model: hearing, every: 2, window: 2, realtime: false, maxTokens: 2, temperature: 0, contextSize: 2048 });
  const wins = windowsOf(await collect(w));
  t.same(wins.map((x) => x.windowEnd), [2, 4]);
  for (const x of wins) {
    t.equal(x.audioChunks, 1);
    // real length: 2 s = 50 embeddings (not the 750 of a clip padded to 30 s by libmtmd) + the template and question
    t.ok(x.tokens.prompt > 50 && x.tokens.prompt < 150, `prompt ${x.tokens.prompt}`);
    t.equal(x.tokens.generated, 2);
  }
  t.equal(contexts.length, 1, 'one context for the whole watch');
});

t.test('frames and sound interleaved per window: each audio chunk after the frames taken while it played', async (t) => {
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  const run = async (audio: 'interleave' | 'prefix', strategy: 'auto' | 'native' = 'native') => {
    const seen: WindowQuestion[] = [];
    const w = watchWith(await media.toneBurst(), { model, every: 2, window: 2, fps: 2, audio, audioWindow: 1, realtime: false, strategy }, { answer: (q) => { seen.push(q); return 'ok'; } });
    return { wins: windowsOf(await collect(w)), seen };
  };
  // the pooled path (auto on LLaVA, as ask() chooses) gives the hook the same order of frames and clips
  const pooled = await run('interleave', 'auto');
  t.same(pooled.seen.map((q) => q.media!.map((s) => (s.kind === 'frame' ? `f${s.t}` : 'a'))), [['f0', 'f0.5', 'a', 'f1', 'f1.5', 'a'], ['f0', 'f0.5', 'a', 'f1', 'f1.5', 'a']]);
  t.same(pooled.wins.map((x) => [x.audioChunks, x.encoded]), [[2, 4], [2, 4]], 'pooled: the frames go through the encoder, the clips among their blocks');
  const { wins, seen } = await run('interleave');
  t.same(wins.map((x) => x.windowEnd), [2, 4]);
  // by hand: frames at 0, 0.5 | 1 s of sound | frames at 1, 1.5 | sound ... (times from the window's start)
  const layout = ['f0', 'f0.5', 'a', 'f1', 'f1.5', 'a'];
  for (const q of seen) t.same(q.media!.map((s) => (s.kind === 'frame' ? `f${s.t}` : 'a')), layout);
  t.same(wins.map((x) => x.audioChunks), [2, 2]);
  t.same(wins.map((x) => x.frames), [4, 4]);
  const chunkRms = seen.map((q) => q.media!.filter((s) => s.kind === 'audio').map((s) => rms((s as { samples: Float32Array }).samples)));
  // the burst (2.0–2.5 s) is the first second of the second window
  t.ok(chunkRms[1]![0]! > 0.2, `burst chunk rms ${chunkRms[1]![0]}`);
  for (const v of [chunkRms[0]![0]!, chunkRms[0]![1]!, chunkRms[1]![1]!]) t.ok(v < 0.02, `silent chunk rms ${v}`);
  t.equal(wins[0]!.encoded, 0, 'the media path encodes inside the prefill, not through the pooled encoder');
  const prefix = await run('prefix');
  for (const q of prefix.seen) t.same(q.media!.map((s) => (s.kind === 'frame' ? `f${s.t}` : 'a')), ['a', 'f0', 'f0.5', 'f1', 'f1.5']);
  t.same((prefix.seen[1]!.media![0] as { samples: Float32Array }).samples.length, 32000, "the window's 2 s as one clip");
  // a video without sound: a warning item before the windows, the frames alone
  const silent = await collect(watchWith(await media.noAudio(), { model, every: 1, window: 1, fps: 2, audio: true, realtime: false }, { answer: () => 'ok' }));
  t.equal(silent[0]!.type, 'warning');
  t.match(warningsOf(silent)[0]!.message, /no audio track/);
  t.same(windowsOf(silent).map((x) => x.audioChunks), [0, 0, 0]);
});

t.test('the LLaVA + Qwen2-Audio pair on a pooled strategy, end to end: each window prefills its frame blocks and its own real-length sound', async (t) => {
  const both = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
  t.teardown(() => both.dispose());
  // every plan the windows hand to Context.prefill (the addon's boundary)
  const plans: ContextPlan[] = [];
  const original = Context.prototype.prefill;
  Context.prototype.prefill = function (plan, opts) { plans.push(plan); return original.call(this, plan, opts); };
  t.teardown(() => { Context.prototype.prefill = original; });
  const clip = await media.toneBurst(); // 4 s, a 1 kHz burst at 2.0–2.5 s
  const opts = { model: both, every: 2, window: 2, fps: 1, realtime: false, strategy: 'concat' as const, contextSize: 2048, maxTokens: 1, temperature: 0 };
  const plain = windowsOf(await collect(watch(clip, opts)));
  plans.length = 0;
  const heard = windowsOf(await collect(watch(clip, { ...opts, audio: 'interleave', audioWindow: 2 })));
  t.same(heard.map((x) => [x.windowEnd, x.frames, x.encoded, x.audioChunks]), [[2, 2, 2, 1], [4, 2, 2, 1]]);
  // the window's prefix: E64 E64 (its two frames) then its 2 s clip, evaluated as the first 50 embeddings (real length)
  const clips = plans.map((p) => p.filter((it): it is { audio: Float32Array; tokens?: number } => 'audio' in it));
  t.same(clips.map((c) => c.map((a) => [a.audio.length, a.tokens])), [[[32000, 50]], [[32000, 50]]]);
  t.ok(rms(clips[0]![0]!.audio) < 0.02 && rms(clips[1]![0]!.audio) > 0.15, 'the burst (2.0–2.5 s) is in the second window\'s clip');
  const order = plans.map((p) => p.flatMap((it) => ('audio' in it ? ['A'] : 'embeddings' in it ? [`E${it.count}`] : [])));
  t.same(order, [['E64', 'E64', 'A'], ['E64', 'E64', 'A']], 'the clip after the frames taken while it played');
  // the prompt grows by the clip's 50 embeddings and the strings libmtmd wraps a qwen2a clip in
  const ctx = await both.createContext({ contextSize: 64 });
  const wrap = ctx.tokenize('<|audio_bos|>').length + ctx.tokenize('<|audio_eos|>').length;
  ctx.dispose();
  heard.forEach((w, i) => t.equal(w.tokens.prompt - plain[i]!.tokens.prompt, 50 + wrap, `window ${i}: ${plain[i]!.tokens.prompt} → ${w.tokens.prompt}`));
  t.ok(heard.every((w) => w.tokens.generated === 1), 'each window answered by the model');
  // padded (libmtmd's form): 750 embeddings a clip; over budget it is the one budget error, with the settings that fit
  const padded = windowsOf(await collect(watch(clip, { ...opts, audio: 'interleave', audioWindow: 2, audioLength: 'padded' })));
  padded.forEach((w, i) => t.equal(w.tokens.prompt - heard[i]!.tokens.prompt, 700, `padded window ${i}`));
  t.throws(() => watch(clip, { ...opts, window: 8, every: 8, audio: 'interleave', audioWindow: 1, audioLength: 'padded' }),
    { code: 'ERR_CONTEXT_FULL', details: { option: 'audio', strategy: 'concat', audioChunks: 8, audioTokens: 6000 }, message: /audioLength: 'real' fits \(200 tokens\)/ });
});

t.test('subtitles on the pooled path: each window gets the cues shown during it, as a timed transcript', async (t) => {
  t.same(windowCues(SUBS.map(([start, end, text]) => ({ start, end, text })), 2, 4).map((c) => [c.start, c.end]), [[0, 2.2 - 2], [1.25, 3.9 - 2]]);
  const seen: WindowQuestion[] = [];
  const w = watchWith(await media.movText(), { model: seeing, every: 2, window: 2, fps: 1, subtitles: true, realtime: false }, { answer: (q) => { seen.push(q); return 'ok'; } });
  const wins = windowsOf(await collect(w));
  t.same(wins.map((x) => x.cues), [2, 2]);
  // by hand (SUBS: 0.5–1.2, 1.5–2.2 two lines, 3.25–3.9 in bold): times from each window's start; a cue already showing starts at 0
  t.equal(seen[0]!.transcript, 'Subtitles:\n[0.5s] "The counter starts"\n[1.5s] "Second line / of a cue"\n');
  t.equal(seen[1]!.transcript, 'Subtitles:\n[0.0s] "Second line / of a cue"\n[1.3s] "A bold end"\n');
  // an external file on the file's timeline gives the same cues
  const ext: WindowQuestion[] = [];
  await collect(watchWith(await media.h264(), { model: seeing, every: 2, window: 2, fps: 1, subtitles: await media.srt(), realtime: false }, { answer: (q) => { ext.push(q); return 'ok'; } }));
  t.same(ext.map((q) => q.transcript), seen.map((q) => q.transcript));
  // no track: a warning, then windows without cues
  const none = await collect(watchWith(await media.h264(), { model: seeing, every: 2, window: 2, fps: 1, subtitles: 'fre', realtime: false }, { answer: () => 'ok' }));
  t.match(warningsOf(none)[0]!.message, /subtitles skipped/);
  t.same(windowsOf(none).map((x) => x.cues), [0, 0]);
});

t.test('subtitles with the model: the window prompt grows by the transcript', async (t) => {
  const opts = { model: seeing, every: 2, window: 2, fps: 1, realtime: false, maxTokens: 1, temperature: 0, strategy: 'concat' as const, contextSize: 1024 };
  const clip = await media.movText();
  const [plain, subs] = await Promise.all([collect(watch(clip, opts)), collect(watch(clip, { ...opts, subtitles: 'eng' }))]);
  const ctx = await seeing.createContext({ contextSize: 256 });
  const n = ctx.tokenize('Subtitles:\n[0.5s] "The counter starts"\n[1.5s] "Second line / of a cue"\n').length;
  ctx.dispose();
  const grew = windowsOf(subs)[0]!.tokens.prompt - windowsOf(plain)[0]!.tokens.prompt;
  t.ok(Math.abs(grew - n) <= 2, `window 0 grew by ${grew} tokens, its transcript alone is ${n}`);
});

t.test('bad options: codes before anything is opened', async (t) => {
  const clip = await media.toneBurst();
  t.throws(() => watch(clip, { model: seeing, audio: true }), { code: 'ERR_UNSUPPORTED', details: { option: 'audio' } });
  t.throws(() => watch(clip, { model: seeing, audio: 'sideways' as never }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => watch(clip, { model: seeing, audioWindow: -1 }), { code: 'ERR_INVALID_ARG', details: { option: 'audioWindow' } });
  t.throws(() => watch(clip, { model: seeing, subtitles: {} as never }), { code: 'ERR_INVALID_ARG' });
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  // sound goes with the pooled strategies too (localize: SlowFast and its time tokens); a model that only hears has no frames to pool
  t.doesNotThrow(() => watch(clip, { model, audio: true, strategy: 'pllava' }));
  t.doesNotThrow(() => watch(clip, { model, audio: true, when: 'a beep', localize: true }));
  t.throws(() => watch(clip, { model, audio: true, strategy: 'native', when: 'a beep', localize: true }), { code: 'ERR_UNSUPPORTED', details: { option: 'localize' } });
  const wav = await media.toneBurstWav();
  t.throws(() => watch(wav, { model: hearing, strategy: 'pllava' }), { code: 'ERR_UNSUPPORTED', details: { option: 'strategy' } });
  // the audio-only model, padded: 10 s windows in 1 s chunks are 10 clips of 750 tokens, more than 2048 - 256
  t.throws(() => watch(clip, { model: hearing, every: 10, window: 10, audio: 'interleave', audioWindow: 1, audioLength: 'padded', contextSize: 2048 }),
    { code: 'ERR_CONTEXT_FULL', details: { option: 'audio', audioChunks: 10, audioTokens: 7500 } });
  // a live stream cannot be listened to alone
  const e = await collect(watch(`udp://127.0.0.1:${await freeUdpPort()}`, { model: hearing, timeout: 1 })).catch((x: unknown) => x);
  t.match(e, { code: 'ERR_UNSUPPORTED' });
});

t.test('a live stream with audio and subtitles asked: its sound is read (test/watch/live-sound.test.ts), its subtitles are not (a warning)', { timeout: 120_000 }, async (t) => {
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const sender = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', colourSource(20, [], 10),
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000:d=20', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  sender.on('error', () => undefined);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const items: WatchItem[] = [];
  const w = watchWith(url, { model, every: 1, window: 1, fps: 2, audio: true, subtitles: true, timeout: 3 }, { answer: () => 'ok' });
  for await (const x of w) {
    items.push(x);
    if (windowsOf(items).length >= 2) break;
  }
  t.same(warningsOf(items).map((x) => x.message.split(':')[0]), ['subtitles']);
  t.same(windowsOf(items).map((x) => x.audioChunks), [1, 1], "each window's second of sound, one clip (the default window from the cost rule)");
  t.ok(windowsOf(items).every((x) => x.frames >= 1));
});

t.test('two audio watches at once on one model agree; an abort mid-answer leaves the model usable', async (t) => {
  const wav = await media.toneBurstWav();
  const opts = { model: hearing, every: 2, window: 2, realtime: false, maxTokens: 3, temperature: 0, contextSize: 2048 };
  const [a, b] = await Promise.all([collect(watch(wav, opts)), collect(watch(wav, opts))]);
  t.same(windowsOf(a).map((x) => x.text), windowsOf(b).map((x) => x.text));
  t.equal(windowsOf(a).length, 2);
  const ac = new AbortController();
  let n = 0;
  const w = watch(wav, { ...opts, maxTokens: 50, signal: ac.signal, onToken: () => { if (++n === 2) ac.abort(); } });
  const e = await collect(w).catch((x: unknown) => x);
  t.match(e, { code: 'ERR_ABORTED' });
  t.ok(w.context?.disposed, 'the context was freed');
  const r = await ask(wav, 'What do you hear?', { model: hearing, maxTokens: 2, temperature: 0, contextSize: 2048 });
  t.equal(r.tokens.generated, 2, 'the model answers after');
});

t.test('vidlm watch (CLI): --audio on the audio model, --subtitles on LLaVA, --audio refused on LLaVA', async (t) => {
  const root = resolve(import.meta.dirname, '..', '..');
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'watch', ...args], { encoding: 'utf8', cwd: root, timeout: 240_000 });
  const a = cli(await media.toneBurstWav(), '--model', m.qwen2Model, '--mmproj', m.qwen2AudioMmproj, '--threads', '1', '--every', '2', '--window', '2',
    '--audio', 'interleave', '--audio-window', '1', '--ctx-size', '2048', '--no-realtime', '--max-tokens', '1', '--json');
  t.equal(a.status, 0, a.stderr);
  const lines = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((x) => [x.windowEnd, x.audioChunks]), [[2, 2], [4, 2]], '2 s windows in 1 s chunks');
  const s = cli(await media.movText(), '--model', m.model, '--mmproj', m.mmproj, '--threads', '1', '--every', '2', '--window', '2', '--fps', '1',
    '--subtitles', '--no-realtime', '--max-tokens', '1', '--json');
  t.equal(s.status, 0, s.stderr);
  t.same(s.stdout.trim().split('\n').map((l) => JSON.parse(l).cues), [2, 2]);
  const bad = cli(await media.toneBurst(), '--model', m.model, '--mmproj', m.mmproj, '--audio', '--no-realtime');
  t.equal(bad.status, 1);
  t.match(bad.stderr, /ERR_UNSUPPORTED/);
});

t.test('a model that sees and hears (the tiny Qwen2.5-Omni pair), end to end: each window prefills its frames and its sound', async (t) => {
  const omni = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 });
  t.teardown(() => omni.dispose());
  t.ok(omni.info.vision && omni.info.audio, 'one mmproj with both encoders');
  const clip = await media.toneBurst();
  // an M-RoPE model's windows go through libmtmd's media path, with sound or without (as ask() takes it)
  const silent = windowsOf(await collect(watch(clip, { model: omni, every: 2, window: 2, fps: 2, realtime: false, contextSize: 8192, maxTokens: 2, temperature: 0 })));
  t.same(silent.map((x) => x.frames), [4, 4], 'the frames alone');
  t.ok(silent.every((w) => w.tokens.prompt > 16 && w.tokens.prompt < 1500), 'no sound in the prompt');
  const run = () => collect(watch(clip, { model: omni, every: 2, window: 2, fps: 2, realtime: false, contextSize: 8192, maxTokens: 2, temperature: 0, audio: 'interleave', audioWindow: 1, audioLength: 'padded' }));
  const wins = windowsOf(await run());
  t.same(wins.map((x) => x.windowEnd), [2, 4]);
  t.same(wins.map((x) => x.frames), [4, 4]);
  t.same(wins.map((x) => x.audioChunks), [2, 2], 'each window: two 1 s clips of its own sound');
  // two clips of 750 embeddings each (libmtmd pads a clip to 30 s), 4 frames of 16 at most, the question
  wins.forEach((w, i) => t.ok(w.tokens.prompt > 1500 + 32 && w.tokens.prompt < 1500 + 400, `window ${i}: ${w.tokens.prompt} prompt tokens`));
  t.ok(wins.every((w) => typeof w.text === 'string' && w.tokens.generated > 0), 'each window answered by the model');
  t.same((await run()).filter((x) => x.type === 'window').map((x) => (x as WatchWindow).text), wins.map((w) => w.text), 'the same answers at temperature 0');
});
