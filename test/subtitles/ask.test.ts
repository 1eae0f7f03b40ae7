/** ask() with subtitles on the tiny models: the cues enter the prompt, broken or missing tracks only warn. */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ask, loadModel } from '../../lib/index.js';
import { subtitleTranscript } from '../../lib/pipeline/assemble.js';
import { media, SUBS } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const run = promisify(execFile);
const gen = { maxTokens: 2, temperature: 0, contextSize: 2048 };
const model = await tinyModel();
t.teardown(() => model.dispose());
const clip = await media.movText();
const cues = SUBS.map(([start, end, text]) => ({ start, end, text }));

t.test('pooled (concat): the transcript tokens are added to the prompt', async (tt) => {
  const plain = await ask(clip, 'What is said?', { model, strategy: 'concat', ...gen });
  const withSubs = await ask(clip, 'What is said?', { model, strategy: 'concat', subtitles: true, ...gen });
  const ctx = await model.createContext({ contextSize: 256 });
  const n = ctx.tokenize(subtitleTranscript(plain.frames.map((f) => f.t), cues)).length;
  ctx.dispose();
  const grew = withSubs.tokens.prompt - plain.tokens.prompt;
  // the block is tokenized inside the prompt: a merge at either edge may change the count by one
  tt.ok(Math.abs(grew - n) <= 2, `prompt grew by ${grew} tokens, the transcript alone is ${n}`);
  tt.equal(withSubs.tokens.visual, plain.tokens.visual, 'no visual token changed');
  tt.notOk(withSubs.warning);
  // an external file with the same cues gives the same prompt
  const ext = await ask(await media.h264(), 'What is said?', { model, strategy: 'concat', subtitles: await media.srt(), ...gen });
  tt.equal(ext.tokens.prompt, withSubs.tokens.prompt);
  // the CLI: --subtitles with a language, then a bare --subtitles before the positionals
  const m = await tinyModels();
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  for (const args of [[clip, 'What is said?', '--subtitles', 'eng'], ['--subtitles', clip, 'What is said?']]) {
    const { stdout } = await run(process.execPath, [cli, 'ask', ...args, '--model', m.model, '--mmproj', m.mmproj, '--strategy', 'concat', '--max-tokens', '2', '--temp', '0', '--ctx-size', '2048', '--json']);
    tt.equal(JSON.parse(stdout).tokens.prompt, withSubs.tokens.prompt, args.join(' '));
  }
});

t.test('a missing track, a broken one: warnings, answers', async (tt) => {
  const none = await ask(await media.h264(), 'Q?', { model, strategy: 'concat', subtitles: true, ...gen });
  tt.match(none.warning, /subtitles skipped: .* no subtitle track/);
  tt.equal(none.tokens.generated, 2);
  const broken = await ask(await media.latin1Mkv(), 'Q?', { model, strategy: 'concat', subtitles: 'fre', ...gen });
  tt.match(broken.warning, /1 cue\(s\) .* could not be decoded/);
  await tt.rejects(ask(clip, 'Q?', { model, subtitles: 3.5 as never, ...gen }), { code: 'ERR_INVALID_ARG' });
});

t.test('native media path (Qwen2-VL): cue lines between the markers', async (tt) => {
  const m = await tinyModels();
  const qwen = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 2 });
  tt.teardown(() => qwen.dispose());
  const o = { model: qwen, strategy: 'native' as const, frames: 4, ...gen };
  const [plain, withSubs] = await Promise.all([ask(clip, 'What is said?', o), ask(clip, 'What is said?', { ...o, subtitles: 'eng' })]);
  // 4 frames merged in 2 pairs either way: the cues sit after each pair, never inside one
  tt.equal(withSubs.tokens.visual, plain.tokens.visual);
  tt.ok(withSubs.tokens.prompt > plain.tokens.prompt + SUBS.length * 4, `${plain.tokens.prompt} → ${withSubs.tokens.prompt} tokens`);
});
