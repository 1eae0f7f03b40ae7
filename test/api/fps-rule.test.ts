// fpsRule: which frames an fps plan takes, on ask/describe/localize/chat, the CLI and batch. 'ffmpeg'
// is checked against the ffmpeg program itself (its fps filter, each output frame traced back to its
// source frame by packet position), 'time' and 'step' against the formulas computed here.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ask, chat, describe, loadModel, VidlmError } from '../../lib/index.js';
import { jobDefaults } from '../../lib/batch/cli-options.js';
import { checkJob } from '../../lib/batch/jobs.js';
import { runJob } from '../../lib/batch/run-job.js';
import { decoderTotals } from '../../lib/video/video.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from '../server/helpers.js';

const run = promisify(execFile);
const m = await tinyModels();
const clip = await media.h264(); // 4 s, 30 fps, 120 frames
const F = 1.7; // not a divisor of 30: the three rules take different frames
const gen = { maxTokens: 2, temperature: 0, contextSize: 2048 };

/** The source frames `ffmpeg -vf fps=F` outputs: showinfo's packet position of each, looked up in ffprobe's frame list. */
async function ffmpegProgramFrames(file: string, fps: number): Promise<number[]> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pkt_pos', '-of', 'json', file]);
  const pos = (JSON.parse(probe.stdout).frames as { pkt_pos: string }[]).map((f) => Number(f.pkt_pos));
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-an', '-vf', `fps=${fps},showinfo`, '-f', 'null', '-'], { maxBuffer: 1 << 24 });
  const out = [...stderr.matchAll(/\] n: *\d+ .*? pos: *(\d+)/g)].map((x) => pos.indexOf(Number(x[1])));
  if (out.length === 0 || out.some((i) => i < 0)) throw new Error(`could not trace ffmpeg's frames: ${stderr.slice(-500)}`);
  return out;
}

const program = await ffmpegProgramFrames(clip, F);
// 'time': the first frame at or after k/F (frame i shows at i/30)
const byTime = Array.from({ length: Math.floor(4 * F - 1e-9) + 1 }, (_, k) => Math.ceil((k * 30) / F - 1e-9)).filter((i) => i < 120);
// 'step': range(0, 120, round(30 / F))
const byStep = Array.from({ length: Math.ceil(120 / Math.round(30 / F)) }, (_, k) => k * Math.round(30 / F));

t.test('the three rules on the LLaVA pair (concat): each takes its own frames', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  t.ok(program.length >= 6, `ffmpeg's fps=${F} gives ${program.length} frames: ${program}`);
  // one model, one memo: a rule left out of the memo key would hand the second ask the first's frames
  const time = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, ...gen });
  const ff = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen });
  const step = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, fpsRule: 'step', ...gen });
  const explicit = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, fpsRule: 'time', ...gen });
  t.same(ff.frames.map((f) => f.index), program, "'ffmpeg': the frames the ffmpeg program's fps filter outputs");
  t.same(ff.frames.map((f) => Math.round(f.t * 30)), program, 'each at its own time');
  t.same(time.frames.map((f) => f.index), byTime, "default: 'time', the first frame at or after k/F");
  t.same(explicit.frames.map((f) => f.index), byTime, "'time' given is the default");
  t.same(step.frames.map((f) => f.index), byStep, "'step': every round(30/F)-th frame");
  t.notSame(program, byTime, 'the rules differ on this clip');
  t.equal(ff.tokens.visual, program.length * 64, 'the prompt holds the frames taken (64 tokens each)');
  const d = await describe(clip, { model, strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen });
  t.same(d.frames.map((f) => f.index), program, 'describe');
});

t.test("chat: its read takes the rule's frames (an ask after it gets them from the memo)", async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const before = decoderTotals.framesDecoded;
  const c = await chat(clip, { model, strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen });
  t.teardown(() => c.dispose());
  t.ok(decoderTotals.framesDecoded > before, 'the chat decoded its frames');
  const mid = decoderTotals.framesDecoded;
  const r = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen });
  t.equal(decoderTotals.framesDecoded, mid, "the ask decoded nothing: the chat's read is remembered under the same rule");
  t.same(r.frames.map((f) => f.index), program, "and its frames are ffmpeg's");
});

t.test("'ffmpeg' on the Qwen2-VL pair (native)", async (t) => {
  const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const r = await ask(clip, 'What happens?', { model, fps: F, fpsRule: 'ffmpeg', ...gen });
  t.equal(r.strategy, 'native');
  t.same(r.frames.map((f) => f.index), program);
});

t.test('batch: a job line takes fpsRule, and its read has the rule\'s frames', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const job = checkJob({ id: 'j', video: clip, task: 'ask', question: 'What happens?', options: { strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen } });
  const r = await runJob(model, job);
  t.equal(r.error, undefined, JSON.stringify(r.error));
  const mid = decoderTotals.framesDecoded;
  const a = await ask(clip, 'What happens?', { model, strategy: 'concat', fps: F, fpsRule: 'ffmpeg', ...gen });
  t.equal(decoderTotals.framesDecoded, mid, "remembered from the job's read");
  t.same(a.frames.map((f) => f.index), program);
  await t.rejects(runJob(model, checkJob({ id: 'k', video: clip, task: 'ask', question: 'x', options: { fpsRule: 'ffmpeg' } })),
    { code: 'ERR_INVALID_ARG', message: /give fps with it/ }, 'a job with a rule and no fps fails as ask() does');
});

t.test('bad values fail before any work', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const bad = async (o: object, option: string, msg: RegExp) => {
    const e = await ask(clip, 'x', { model, ...gen, ...o }).then(() => null, (e: unknown) => e);
    t.ok(e instanceof VidlmError, JSON.stringify(o));
    t.match(e, { code: 'ERR_INVALID_ARG', details: { option }, message: msg }, JSON.stringify(o));
  };
  await bad({ fps: 1, fpsRule: 'nearest' }, 'fpsRule', /'time', 'step' or 'ffmpeg'.*"nearest"/);
  await bad({ fps: 1, fpsRule: 4 }, 'fpsRule', /fpsRule must be/);
  await bad({ fpsRule: 'ffmpeg' }, 'fpsRule', /give fps with it/);
  await bad({ frames: 4, fpsRule: 'ffmpeg' }, 'fpsRule', /give fps with it/);
  t.same(jobDefaults({ fps: '2', 'fps-rule': 'ffmpeg' }), { fps: 2, fpsRule: 'ffmpeg' }, 'batch: --fps-rule becomes every job\'s fpsRule');
});

t.test('vidlm ask --fps-rule', async (t) => {
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const args = [cli, 'ask', clip, 'What happens?', '--model', m.model, '--mmproj', m.mmproj, '--strategy', 'concat', '--fps', String(F),
    '--max-tokens', '2', '--temp', '0', '--ctx-size', '2048', '--threads', '1', '--json'];
  const { stdout } = await run(process.execPath, [...args, '--fps-rule', 'ffmpeg']);
  t.same(JSON.parse(stdout).frames.map((f: { index: number }) => f.index), program);
  const e = await run(process.execPath, [...args, '--fps-rule', 'nearest']).then(() => null, (e: { code: number; stderr: string }) => e);
  t.ok(e && e.code !== 0, 'a bad rule fails');
  t.match(e?.stderr, /ERR_INVALID_ARG.*fpsRule/);
});

t.test('vidlm serve: vidlm.fpsRule', async (t) => {
  const md = await mediaDir();
  t.teardown(() => md.cleanup());
  const { server, url } = await startServer({ parallel: 1, mediaPath: md.dir });
  t.teardown(() => server.close());
  const body = (vidlm: object) => ({ messages: [videoTurn('clip.mp4')], max_tokens: 2, temperature: 0, vidlm: { strategy: 'concat', ...vidlm } });
  const ff = await post(url, body({ fps: F, fpsRule: 'ffmpeg' }));
  t.equal(ff.status, 200, JSON.stringify(ff.json));
  t.same(ff.json.vidlm.media[0].frames.map((f: { index: number }) => f.index), program, "ffmpeg's frames");
  const time = await post(url, body({ fps: F }));
  t.same(time.json.vidlm.media[0].frames.map((f: { index: number }) => f.index), byTime, "without it 'time', not the frames of the request before");
  const step = await post(url, body({ fps: F, fpsRule: 'step' }));
  t.same(step.json.vidlm.media[0].frames.map((f: { index: number }) => f.index), byStep);
  for (const [vidlm, why] of [[{ fps: F, fpsRule: 'nearest' }, 'a value not in the list'], [{ fpsRule: 'ffmpeg' }, 'without fps'], [{ frames: 4, fpsRule: 'ffmpeg' }, 'with a frame count']] as const) {
    const r = await post(url, body(vidlm));
    t.equal(r.status, 400, why);
    t.match(r.json.error, { type: 'invalid_request_error', code: 'invalid_value', param: 'vidlm.fpsRule' }, why);
  }
});
