/**
 * Batch jobs with sound and subtitles: `options.audio`, `options.audioWindow`, `options.subtitles`
 * on job lines and as command flags (the built CLI), a job's relative subtitle file taken from the
 * jobs file's folder like its video, a flag's from the current folder.
 */
import t from 'tap';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { audioFlag } from '../../lib/audio/cli.js';
import { jobDefaults } from '../../lib/batch/cli-options.js';
import { withSoundValues } from '../../lib/cli-flags.js';
import { parseJobs, resolveOptions } from '../../lib/batch/jobs.js';
import { runJob } from '../../lib/batch/run-job.js';
import { loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { cliSync, readResults, ResultsById, writeJobs } from './helpers.js';

const models = await tinyModels();

t.test('job lines: audio and subtitle options accepted; a relative subtitle file from the jobs folder', async (t) => {
  const lines = [
    { id: 'a', video: 'v.mp4', task: 'ask', question: 'q', options: { audio: 'prefix', audioWindow: 30, subtitles: 'subs/a.srt' } },
    { id: 'b', video: 'v.mp4', task: 'describe', options: { subtitles: 'eng' } },
    { id: 'c', video: 'v.mp4', task: 'describe', options: { subtitles: 2, audio: true } },
    { id: 'd', video: 'v.mp4', task: 'describe', options: { subtitles: '/srv/subs/d.vtt' } },
  ].map((l) => JSON.stringify(l)).join('\n');
  const e = parseJobs(lines, {}, '/data/lib');
  t.same(e.map((x) => x.error), [undefined, undefined, undefined, undefined], 'no line refused');
  t.same(e[0]!.spec!.options, { audio: 'prefix', audioWindow: 30, subtitles: '/data/lib/subs/a.srt' });
  t.equal(e[1]!.spec!.options.subtitles, 'eng', 'a language stays a language');
  t.same(e[2]!.spec!.options, { subtitles: 2, audio: true });
  t.equal(e[3]!.spec!.options.subtitles, '/srv/subs/d.vtt');
  t.same(resolveOptions({ subtitles: true }, '/x'), { subtitles: true });
});

t.test('flags: --audio [mode], --audio-window, --subtitles [LANG|FILE] become job defaults', async (t) => {
  t.same(withSoundValues(['jobs.jsonl', '--audio', '--subtitles', '--out', 'r.jsonl']), ['jobs.jsonl', '--audio=true', '--subtitles=true', '--out', 'r.jsonl']);
  t.same(withSoundValues(['--audio', 'prefix', '--subtitles', 'fre', 'jobs.jsonl']), ['--audio=prefix', '--subtitles=fre', 'jobs.jsonl']);
  t.equal(audioFlag('true'), true);
  t.equal(audioFlag('interleave'), 'interleave');
  t.same(jobDefaults({ audio: 'prefix', 'audio-window': '4', subtitles: 'true' }), { audio: 'prefix', audioWindow: 4, subtitles: true });
  // a flag's file is from where the command runs, made absolute so the jobs folder does not move it
  t.same(jobDefaults({ subtitles: 'my.srt' }), { subtitles: resolve('my.srt') });
  const e = parseJobs(JSON.stringify({ id: 'x', video: 'v.mp4', task: 'describe' }), jobDefaults({ subtitles: 'my.srt' }), '/elsewhere');
  t.equal(e[0]!.spec!.options.subtitles, resolve('my.srt'));
  t.throws(() => jobDefaults({ 'audio-window': 'soon' }), { code: 'ERR_INVALID_ARG' });
});

t.test('runJob with the audio model: the sound in the chunks asked for; two jobs at once agree', async (t) => {
  const model = await loadModel({ model: models.qwen2Model, mmproj: models.qwen2AudioMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const gen = { maxTokens: 2, temperature: 0, contextSize: 2048 };
  const wav = await media.toneBurstWav();
  // 4 s in 2 s windows: two clips, each padded by libmtmd to one 30 s Whisper chunk of 750 embeddings
  const job = { id: 'w', video: wav, task: 'ask' as const, question: 'What do you hear?', options: { ...gen, audio: 'interleave' as const, audioWindow: 2, audioLength: 'padded' as const } };
  const [a, b] = await Promise.all([runJob(model, job), runJob(model, { ...job, id: 'w2' })]);
  t.equal(a.tokens!.visual, 1500);
  t.equal(b.text, a.text, 'deterministic at temperature 0, run concurrently');
  const one = await runJob(model, { ...job, options: { ...gen, audio: 'interleave', audioWindow: 30, audioLength: 'padded' } });
  t.equal(one.tokens!.visual, 750, 'one 30 s window');
  // the video's sound: the model has no vision encoder, the result line carries ask()'s warning
  const mp4 = await runJob(model, { id: 'm', video: await media.toneBurst(), task: 'describe', options: { ...gen, audio: 'prefix', audioLength: 'padded' } });
  t.equal(mp4.tokens!.visual, 750);
  t.match(mp4.warning, /only the sound/);
});

t.test('vidlm batch (CLI): audio flags on the audio model, subtitles on job lines and flags on LLaVA', async (t) => {
  const dir = t.testdir();
  copyFileSync(await media.srt(), join(dir, 'local.srt'));
  const wav = await media.toneBurstWav();
  const audioJobs = writeJobs(dir, 'audio.jsonl', [
    { id: 'flag', video: wav, task: 'ask', question: 'What do you hear?' },
    { id: 'own', video: wav, task: 'ask', question: 'What do you hear?', options: { audioWindow: 30 } },
    { id: 'real', video: wav, task: 'ask', question: 'What do you hear?', options: { audioLength: 'real' } },
  ]);
  const out = join(dir, 'audio-results.jsonl');
  const r = cliSync(['batch', audioJobs, '--model', models.qwen2Model, '--mmproj', models.qwen2AudioMmproj, '--threads', '1', '--out', out,
    '--audio', '--audio-window', '2', '--audio-length', 'padded', '--max-tokens', '2', '--ctx-size', '2048', '--temp', '0']);
  t.equal(r.status, 0, r.stderr);
  const byId = new ResultsById(readResults(out));
  t.equal(byId.get('flag').tokens.visual, 1500, '--audio --audio-window 2: two clips');
  t.equal(byId.get('own').tokens.visual, 750, "the job's own audioWindow wins");
  t.equal(byId.get('real').tokens.visual, 100, "the job's own audioLength wins: 2 clips of 2 s, 50 each");

  const clip = await media.movText();
  const subJobs = writeJobs(dir, 'subs.jsonl', [
    { id: 'plain', video: clip, task: 'ask', question: 'What is said?', options: { subtitles: false } },
    { id: 'track', video: clip, task: 'ask', question: 'What is said?' },
    { id: 'file', video: await media.h264(), task: 'ask', question: 'What is said?', options: { subtitles: 'local.srt' } },
    { id: 'gone', video: clip, task: 'ask', question: 'What is said?', options: { subtitles: 'missing.srt' } },
    { id: 'noaudio', video: clip, task: 'ask', question: 'What is said?', options: { audio: true } },
  ]);
  const out2 = join(dir, 'subs-results.jsonl');
  const r2 = cliSync(['batch', subJobs, '--model', models.model, '--mmproj', models.mmproj, '--threads', '1', '--out', out2,
    '--subtitles', 'eng', '--strategy', 'concat', '--frames', '2', '--max-tokens', '2', '--ctx-size', '2048', '--temp', '0']);
  t.equal(r2.status, 0, r2.stderr);
  const s = new ResultsById(readResults(out2));
  const plain = s.get('plain'), track = s.get('track'), file = s.get('file');
  t.ok(track.tokens.prompt > plain.tokens.prompt + 20, `--subtitles eng adds the transcript (${plain.tokens.prompt} → ${track.tokens.prompt})`);
  t.notOk(track.warning);
  t.equal(file.tokens.prompt, track.tokens.prompt, 'the relative .srt beside the jobs file gives the same cues as the track');
  t.notOk(file.warning, 'the file was found');
  t.notOk(s.get('gone').error, 'a missing subtitle file does not fail the job');
  t.match(s.get('gone').warning, /subtitles skipped/);
  t.equal(s.get('gone').tokens.prompt, plain.tokens.prompt);
  t.equal(s.get('noaudio').error.code, 'ERR_UNSUPPORTED', 'audio on a model without an audio encoder');
  t.match(s.get('noaudio').error.message, /audio/);
});
