/** `vidlm describe` (the built CLI) with --audio, --audio-window, --subtitles and --prompt: the same prompts as describe() in-process. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const root = resolve(import.meta.dirname, '..', '..');
const m = await tinyModels();
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'describe', ...args], { encoding: 'utf8', cwd: root, timeout: 240_000 });
const gen = ['--max-tokens', '2', '--temp', '0', '--ctx-size', '2048', '--threads', '1', '--json'];

t.test('--audio --audio-window on the audio model: the chunks asked for, as describe() makes them', async (t) => {
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const wav = await media.toneBurstWav();
  const api = await describe(wav, { model, audio: 'interleave', audioWindow: 2, audioLength: 'padded', maxTokens: 2, temperature: 0, contextSize: 2048 });
  const r = cli(wav, '--model', m.qwen2Model, '--mmproj', m.qwen2AudioMmproj, '--audio', '--audio-window', '2', '--audio-length', 'padded', ...gen);
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.equal(out.tokens.visual, 1500, 'two 2 s clips');
  t.same(out.tokens, api.tokens);
  t.equal(out.text, api.text);
});

t.test('--subtitles and --prompt on LLaVA; bad usage exits 2', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const clip = await media.movText();
  const base = ['--model', m.model, '--mmproj', m.mmproj, '--strategy', 'concat', '--frames', '2', ...gen];
  const api = await describe(clip, { model, subtitles: true, strategy: 'concat', frames: 2, maxTokens: 2, temperature: 0, contextSize: 2048 });
  const plain = JSON.parse(cli(clip, ...base).stdout);
  const subs = cli(clip, '--subtitles', ...base);
  t.equal(subs.status, 0, subs.stderr);
  const s = JSON.parse(subs.stdout);
  t.equal(s.tokens.prompt, api.tokens.prompt, 'the CLI and the API build the same prompt');
  t.ok(s.tokens.prompt > plain.tokens.prompt + 20, 'the transcript is in it');
  const own = JSON.parse(cli(clip, ...base, '--prompt', 'Say what the counter shows, then what the subtitles say, in a few words.').stdout);
  t.ok(own.tokens.prompt > plain.tokens.prompt, '--prompt replaces the default instruction');
  t.equal(cli(clip, 'extra question', ...base).status, 2);
  t.equal(cli(clip).status, 2, 'no model');
});
