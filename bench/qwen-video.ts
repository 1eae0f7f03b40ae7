/**
 * The Qwen2-VL row of issue #23: a 16-frame question on a 10-minute clip and its follow-up, on the
 * tiny Qwen2-VL fixture pair (M-RoPE, frame pairs merged), vidlm against llama.cpp's own tools from
 * the same vendored tree (bench/reference-build.ts: their video path is the ffmpeg program through
 * mtmd-helper), whole process against whole process. Only the CLIs and HTTP are used: the bench
 * measures whatever vidlm's native path does at the commit it runs.
 *
 * The frames. llama.cpp samples a video with the ffmpeg program's fps filter at `--video-fps`
 * (printed with %.6f), so both sides get F = 16 / duration: llama through `--video-fps F`, vidlm
 * through `--fps F --fps-rule ffmpeg` (serve: `"fpsRule": "ffmpeg"`), vidlm's model of that filter
 * (the last frame of each 1 / F interval; its default 'time' rule takes the first frame at or after
 * k / F, half a step earlier). The same 16 frames on both sides: before timing, the rule's pictures
 * (`vidlm frames --fps F --rule ffmpeg`) are checked byte for byte against the ffmpeg program's own
 * `fps=F` output at 112×112, and every vidlm ask and serve request must report exactly the rule's
 * frame indices and times. llama's helper also writes a `[XmY.YYs]` text every 5 s of video between
 * frames, which splits every pair (each frame an image of its own); `--video-timestamp-interval 0`
 * turns it off so llama merges pairs as vidlm's native layout does. llama gives a 1280×720 frame
 * hundreds of tokens; `--image-min-tokens 16 --image-max-tokens 16` brings it near vidlm's (vidlm
 * scales video frames to the encoder's square input, 16 tokens per merged pair; llama keeps the
 * aspect, 5 × 3). The tables say what each side evaluated.
 *
 * Parts (each its own docs section, `--parts ask,serve`):
 *   ask:   `vidlm ask <clip> <q> --strategy native --fps F --threads T` against
 *          `llama-mtmd-cli --video <clip> --video-fps F -t T`, spawn to exit, peak RSS (GNU time);
 *   serve: `vidlm serve` against `llama-server`, each a fresh process per run: spawn, wait for
 *          /health, the question, the follow-up with the whole history (what a chat client sends),
 *          SIGTERM, exit. Per request: time to first token, total, prompt tokens, cached tokens and
 *          prompt tokens evaluated as each server reports them; the whole session spawn → exit.
 * Both sides greedy (temperature 0) with the same max tokens; llama with `--ignore-eos` (vidlm has
 * no such option; the random-weight fixture rarely samples EOS): generated tokens are reported per
 * side. Sides alternate run by run (order reversed every other run); cells are medians with
 * min–max, ratios vidlm / llama of the medians with the range of per-run ratios.
 *
 * Run (outside CI): npm run build:ts && npm run bench -- qwen-video [--runs 3] [--parts ask,serve]
 *   [--threads 2] [--max-tokens 16] [--clip FILE] [--write-docs]   (docs/video.md, sections bench:qwen-video-ask / -serve)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { media } from '../test/fixtures/media.js';
import { freeTcpPort } from '../test/fixtures/ports.js';
import { benchRun, fmtMs, median, publish, spread } from './doc-table.js';
import { referenceServer, referenceVideoCli } from './reference-build.js';
import { waitReady } from './server-process.js';
import { sseJson } from './sse.js';

const run = benchRun('qwen-video');
const { values } = parseArgs({ options: {
  'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' },
  runs: { type: 'string' }, parts: { type: 'string' }, threads: { type: 'string' }, 'max-tokens': { type: 'string' }, clip: { type: 'string' },
} });
const RUNS = Number(values.runs ?? 3);
const PARTS = (values.parts ?? 'ask,serve').split(',');
const THREADS = values.threads ?? '2';
const MAX_TOKENS = Number(values['max-tokens'] ?? 16);
const FRAMES = 16;
const CHECK_SIZE = 112; // the pictures compared byte for byte (the fixture encoder's input side)
const QUESTION = 'What happens in this video?';
const FOLLOW_UP = 'What colour is the background at the end?';
const root = process.cwd();
const cliJs = join(root, 'dist', 'cli.js');
if (!existsSync(cliJs)) throw new Error('dist/cli.js is missing: run `npm run build:ts` first');
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time (Debian package "time") is needed for peak memory');

const CLIP = values.clip ? resolve(values.clip) : await media.bench();
const m = await tinyModels();
const MODEL = m.qwen2vlModel, MMPROJ = m.qwen2vlMmproj;
// the duration llama's helper reads (ffprobe's stream duration) and the fps it passes to the filter
const probe = execFileSync('ffprobe', ['-v', 'quiet', '-select_streams', 'v:0', '-show_entries', 'stream=duration,r_frame_rate,width,height', '-of', 'default=noprint_wrappers=1', CLIP], { encoding: 'utf8' });
const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(probe)?.[1] ?? '';
const DURATION = Number(field('duration'));
const [rn, rd] = field('r_frame_rate').split('/').map(Number);
const CLIP_FPS = rn! / (rd ?? 1);
const FPS = (FRAMES / DURATION).toFixed(6);
const clipLabel = `${basename(CLIP)} (${field('width')}×${field('height')}, ${CLIP_FPS} fps, ${(DURATION / 60).toFixed(0)} min)`;
const llamaVideo = ['--video-fps', FPS, '--video-timestamp-interval', '0', '--image-min-tokens', '16', '--image-max-tokens', '16'];

interface Proc { ms: number; rssMb: number; stdout: string; stderr: string }

/** A whole process under GNU time: spawn to exit, its peak RSS, its output. */
function timed(cmd: string, args: string[]): Promise<Proc> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-f', 'qwen-bench-maxrss=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', rej);
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return rej(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-3000)}`));
      res({ ms, rssMb: Number(/qwen-bench-maxrss=(\d+)/.exec(stderr)?.[1] ?? NaN) / 1024, stdout, stderr });
    });
  });
}

/** A process's raw RGB24 frames (stdout) and its stderr. */
function rawFrames(cmd: string, args: string[]): { frames: Buffer[]; stderr: string } {
  const p = spawnSync(cmd, args, { maxBuffer: 1 << 28 });
  if (p.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${p.status}: ${p.stderr}`);
  const n = CHECK_SIZE * CHECK_SIZE * 3;
  return { frames: Array.from({ length: Math.floor(p.stdout.length / n) }, (_, i) => p.stdout.subarray(i * n, (i + 1) * n)), stderr: p.stderr.toString() };
}

type Frame = { index: number; t: number };

/** `vidlm frames <clip> --fps F --rule ffmpeg`: the pictures, their frame indices and times. */
function vidlmFrames(): { frames: Buffer[]; rows: Frame[] } {
  const r = rawFrames(process.execPath, [cliJs, 'frames', CLIP, '--fps', FPS, '--rule', 'ffmpeg', '--json', '--out', '-', '--format', 'rgb24', '--size', `${CHECK_SIZE}x${CHECK_SIZE}`]);
  const rows = JSON.parse(r.stderr.slice(r.stderr.indexOf('['), r.stderr.lastIndexOf(']') + 1)) as Frame[];
  return { frames: r.frames, rows: rows.map((x) => ({ index: x.index, t: x.t })) };
}

/**
 * The frames both sides take. llama's helper runs the ffmpeg program's `fps=F` filter, which takes
 * the last frame of each 1 / F interval (rounding to nearest); vidlm's 'ffmpeg' rule is its model
 * of that filter, its pictures compared byte for byte with the ffmpeg program's own, so the frames
 * it names are the frames llama.cpp encodes.
 */
function framesCheck(): { llama: Frame[]; filterFrames: number; identical: number } {
  const model = vidlmFrames();
  const filter = rawFrames('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', CLIP, '-an', '-vf', `fps=${FPS},scale=${CHECK_SIZE}:${CHECK_SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']).frames;
  const identical = model.frames.filter((b, i) => filter[i] !== undefined && Buffer.compare(b, filter[i]!) === 0).length;
  if (identical !== filter.length || model.frames.length !== filter.length) throw new Error(`vidlm's 'ffmpeg' rule gave ${model.frames.length} frames, the filter ${filter.length}, ${identical} identical`);
  return { llama: model.rows, filterFrames: filter.length, identical };
}

/** Throws unless a vidlm side reported exactly llama's frames (indices and times, to the microsecond). */
function sameFrames(who: string, got: Frame[], llama: Frame[]): void {
  const key = (f: Frame[]) => f.map((x) => `${x.index}@${x.t.toFixed(6)}`).join();
  if (key(got) !== key(llama)) throw new Error(`${who} took frames ${key(got)}, llama.cpp's (the filter's) are ${key(llama)}`);
}

const list = (xs: number[]) => (xs.length > 6 ? `${xs.slice(0, 3).join(', ')}, …, ${xs.slice(-2).join(', ')}` : xs.join(', '));
/** Two decimals, or two significant digits below 0.1 (a follow-up can be hundreds of times apart). */
const ratio = (x: number) => (x < 0.1 ? x.toPrecision(2) : x.toFixed(2));
const ratioCell = (v: number[], l: number[]) => {
  const per = v.map((x, i) => x / l[i]!);
  return `${ratio(median(v) / median(l))}× (${ratio(Math.min(...per))}–${ratio(Math.max(...per))})`;
};
const mib = (x: number) => `${x.toFixed(0)} MiB`;
const order = <T>(r: number, xs: readonly T[]) => (r % 2 ? [...xs].reverse() : [...xs]);

// ---------------------------------------------------------------- one-shot: ask vs llama-mtmd-cli

interface Ask { ms: number; rssMb: number; prompt: number; visual: number; generated: number; images?: number; frames?: Frame[]; llamaFrames?: number }

async function vidlmAsk(): Promise<Ask> {
  const p = await timed(process.execPath, [cliJs, 'ask', CLIP, QUESTION, '--model', MODEL, '--mmproj', MMPROJ, '--strategy', 'native', '--fps', FPS, '--fps-rule', 'ffmpeg',
    '--threads', THREADS, '--max-tokens', String(MAX_TOKENS), '--temp', '0', '--json']);
  const j = JSON.parse(p.stdout.trim().split('\n').pop()!) as { tokens: { prompt: number; visual: number; generated: number }; frames: Frame[] };
  return { ms: p.ms, rssMb: p.rssMb, prompt: j.tokens.prompt, visual: j.tokens.visual, generated: j.tokens.generated, frames: j.frames.map((f) => ({ index: f.index, t: f.t })) };
}

const llamaAskArgs = () => ['-m', MODEL, '--mmproj', MMPROJ, '--video', CLIP, ...llamaVideo, '-p', QUESTION, '-n', String(MAX_TOKENS), '--ignore-eos', '--temp', '0', '-t', THREADS];

/** llama-mtmd-cli as it is timed (its default logging, which prints no counts): the whole process. */
async function llamaAsk(cli: string): Promise<Ask> {
  const p = await timed(cli, llamaAskArgs());
  return { ms: p.ms, rssMb: p.rssMb, prompt: NaN, visual: NaN, generated: NaN };
}

/** One untimed llama-mtmd-cli run with -v (a warm-up): what it evaluates, from its own log. */
async function llamaCounts(cli: string): Promise<Ask> {
  const p = await timed(cli, ['-v', ...llamaAskArgs()]);
  const log = p.stdout + p.stderr;
  const batches = [...log.matchAll(/decoding image batch \d+\/\d+, n_tokens_batch = (\d+)/g)].map((x) => Number(x[1]));
  const frames = [...log.matchAll(/clip_encode: copying image \d+\/\d+ to input buffer/g)].length;
  const prompt = Number(/prompt eval time =\s+[\d.]+ ms \/\s+(\d+) tokens/.exec(log)?.[1] ?? NaN);
  const runs = Number(/\beval time =\s+[\d.]+ ms \/\s+(\d+) runs/.exec(log)?.[1] ?? NaN);
  // the first token comes from the prompt's logits, each later one from an eval run
  return { ms: p.ms, rssMb: p.rssMb, prompt, visual: batches.reduce((x, y) => x + y, 0), generated: runs + 1, images: batches.length, llamaFrames: frames };
}

async function askPart(): Promise<void> {
  const cli = referenceVideoCli(root);
  const check = framesCheck();
  const idx = check.llama.map((f) => f.index);
  console.log(`frames (ffmpeg's fps filter = vidlm's 'ffmpeg' rule): ${list(idx)}; the filter gave ${check.filterFrames}, ${check.identical} byte-identical with the rule's at ${CHECK_SIZE}×${CHECK_SIZE}`);
  const counts = await llamaCounts(cli);
  if (counts.llamaFrames !== check.filterFrames) throw new Error(`llama-mtmd-cli encoded ${counts.llamaFrames} frames, the filter gives ${check.filterFrames}`);
  console.log(`llama-mtmd-cli -v (untimed): ${counts.llamaFrames} frames in ${counts.images} images, visual ${counts.visual}, prompt ${counts.prompt}, generated ${counts.generated}`);
  const got: Record<'vidlm' | 'llama', Ask[]> = { vidlm: [], llama: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const side of order(r, ['vidlm', 'llama'] as const)) {
      const a = side === 'vidlm' ? await vidlmAsk() : await llamaAsk(cli);
      if (side === 'vidlm') sameFrames('vidlm ask', a.frames!, check.llama);
      got[side].push(a);
      console.log(`run ${r + 1} ${side.padEnd(6)} ${fmtMs(a.ms).padStart(9)}  ${mib(a.rssMb).padStart(8)}` + (side === 'vidlm' ? `  prompt ${a.prompt}, visual ${a.visual}, generated ${a.generated}` : ''));
    }
  }
  const v = got.vidlm, l = got.llama;
  const step = (1 / Number(FPS)).toFixed(1);
  const body = [
    `One question about a ${clipLabel} clip on the tiny Qwen2-VL fixture pair: ${FRAMES} frames at fps = ${FRAMES} / duration = ${FPS} on both sides, ${THREADS} threads, greedy, max ${MAX_TOKENS} tokens; whole processes, spawn to exit. ` +
    `Same frames on both sides: ${FRAMES} frames one ${step} s step apart, the last of each 1 / fps interval, as the ffmpeg program's \`fps\` filter (llama.cpp's helper) takes them; vidlm takes them with \`--fps-rule ffmpeg\`, its model of that filter, ` +
    `whose pictures are byte-identical with the filter's own (${check.identical} of ${check.filterFrames}, at ${CHECK_SIZE}×${CHECK_SIZE}); every vidlm run reported exactly these frame indices and times (checked), and llama-mtmd-cli's log ${check.filterFrames} encoded frames. Token counts: vidlm's \`--json\`, llama.cpp's own \`-v\` log of an untimed warm-up run.`,
    '',
    '| side | command | frames (indices in the clip) | images encoded | visual tokens evaluated | prompt tokens | tokens generated | whole process | peak RSS |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| vidlm | \`vidlm ask --strategy native --fps ${FPS} --fps-rule ffmpeg --threads ${THREADS} --temp 0 --max-tokens ${MAX_TOKENS}\` | ${idx.length}: ${list(idx)} (seeks; same frames) | ${FRAMES / 2} merged pairs | ${v[0]!.visual} | ${v[0]!.prompt} | ${v[0]!.generated} | ${spread(v.map((x) => x.ms))} | ${spread(v.map((x) => x.rssMb), mib)} |`,
    `| llama.cpp | \`llama-mtmd-cli --video ${llamaVideo.join(' ')} -t ${THREADS} --temp 0 -n ${MAX_TOKENS} --ignore-eos\` | ${counts.llamaFrames}: ${list(idx)} (the whole clip decoded; same frames) | ${counts.images} | ${counts.visual} | ${counts.prompt} | ${counts.generated} | ${spread(l.map((x) => x.ms))} | ${spread(l.map((x) => x.rssMb), mib)} |`,
    `| ratio vidlm / llama.cpp | | | | | | | ${ratioCell(v.map((x) => x.ms), l.map((x) => x.ms))} | ${ratioCell(v.map((x) => x.rssMb), l.map((x) => x.rssMb))} |`,
  ].join('\n');
  publish(run, { file: 'docs/video.md', section: 'qwen-video-ask', body, runs: RUNS,
    statistic: 'whole processes (spawn to exit, peak RSS from GNU time), the two sides taking turns (order reversed every other run) after one untimed llama-mtmd-cli warm-up; cells are medians with min–max, ratios the ratio of medians with the range of per-run ratios' });
}

// ---------------------------------------------------------------- follow-up: vidlm serve vs llama-server

/**
 * The byte tokens <0x00>…<0xFF> of the llama-spm vocabulary the fixture copies (ids 3–258).
 * llama-server's chat parser ends a reply with HTTP 500 when the text is not valid UTF-8, which a
 * random-weight model's lone byte tokens make it; banned on llama-server only (vidlm serve has no
 * logit_bias and streams any bytes), which changes nothing but which tokens are sampled.
 */
const BYTE_TOKENS = Array.from({ length: 256 }, (_, i) => 3 + i);

/** vidlm serve's own report of a request's video (`vidlm.media`): which frames, how many decoded and encoded for it. */
interface VidlmMedia { frames: Frame[]; decoded: number; encoded: number }
interface Turn { ttft: number; total: number; prompt: number; cached: number; evaluated: number; generated: number; answer: string; media: VidlmMedia | null }
interface Session { first: Turn; follow: Turn; ready: number; whole: number; rssMb: number }

/** One streamed request: time to the first content piece and to the end, and the usage the server reports. */
async function turn(url: string, messages: unknown[], extra: Record<string, unknown>): Promise<Turn> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, max_tokens: MAX_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true }, ...extra }),
  });
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  let ttft = 0, answer = '', prompt = 0, cached = 0, generated = 0, evaluated: number | null = null, media: VidlmMedia | null = null;
  for await (const j of sseJson(r.body!)) {
    if (j.error) throw new Error(`${url}: error in the stream: ${JSON.stringify(j.error)}`);
    const piece = j.choices?.[0]?.delta?.content;
    if (piece && !ttft) ttft = performance.now() - t0;
    if (piece) answer += piece;
    if (j.usage) { prompt = j.usage.prompt_tokens; generated = j.usage.completion_tokens; cached = j.usage.prompt_tokens_details?.cached_tokens ?? 0; }
    if (j.timings?.prompt_n !== undefined) evaluated = j.timings.prompt_n; // llama-server's own count
    if (j.vidlm?.media?.[0]) media = j.vidlm.media[0] as VidlmMedia;
  }
  return { ttft: ttft || performance.now() - t0, total: performance.now() - t0, prompt, cached, evaluated: evaluated ?? prompt - cached, generated, answer, media };
}

async function session(side: 'vidlm' | 'llama', server: string): Promise<Session> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const dir = dirname(CLIP);
  const t0 = performance.now();
  const child = side === 'vidlm'
    ? spawn(process.execPath, [cliJs, 'serve', '--model', MODEL, '--mmproj', MMPROJ, '--port', String(port), '--media-path', dir, '--threads', THREADS, '--ctx-size', '2048', '--no-ui',
      // the clip is larger than the default media limit (64 MiB): let it through
      '--max-media-mb', String(Math.ceil(statSync(CLIP).size / 2 ** 20) + 1)], { stdio: 'ignore' })
    : spawn(server, ['-m', MODEL, '--mmproj', MMPROJ, '--port', String(port), '--host', '127.0.0.1', '--media-path', dir, '-t', THREADS, '-c', '2048', '-np', '1', '--no-webui', ...llamaVideo], { stdio: 'ignore' });
  const exited = new Promise<number>((r) => child.once('exit', () => r(performance.now())));
  try {
    await waitReady(url, child);
    const ready = performance.now() - t0;
    const video = side === 'vidlm'
      ? { type: 'video_url', video_url: { url: `file://${CLIP}` } }
      : { type: 'input_video', input_video: { url: `file://${basename(CLIP)}` } };
    const extra = side === 'vidlm' ? { vidlm: { strategy: 'native', fps: Number(FPS), fpsRule: 'ffmpeg' } } : { ignore_eos: true, logit_bias: BYTE_TOKENS.map((id) => [id, false]) };
    const messages: unknown[] = [{ role: 'user', content: [video, { type: 'text', text: QUESTION }] }];
    const first = await turn(url, messages, extra);
    messages.push({ role: 'assistant', content: first.answer }, { role: 'user', content: FOLLOW_UP });
    const follow = await turn(url, messages, extra);
    const rssMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    child.kill('SIGTERM');
    return { first, follow, ready, whole: (await exited) - t0, rssMb };
  } finally {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
  }
}

async function servePart(): Promise<void> {
  const server = referenceServer(root);
  const asked = framesCheck().llama; // llama.cpp's frames (the filter's), checked against the ffmpeg program
  const got: Record<'vidlm' | 'llama', Session[]> = { vidlm: [], llama: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const side of order(r, ['vidlm', 'llama'] as const)) {
      const s = await session(side, server);
      for (const t of side === 'vidlm' ? [s.first, s.follow] : []) {
        sameFrames('vidlm serve', t.media?.frames ?? [], asked);
      }
      got[side].push(s);
      console.log(`run ${r + 1} ${side.padEnd(6)} first ${fmtMs(s.first.total)} (prompt ${s.first.prompt}, cached ${s.first.cached}, evaluated ${s.first.evaluated}, generated ${s.first.generated}); ` +
        `follow-up ${fmtMs(s.follow.total)} (prompt ${s.follow.prompt}, cached ${s.follow.cached}, evaluated ${s.follow.evaluated}, generated ${s.follow.generated}); session ${fmtMs(s.whole)}`);
    }
  }
  const name = { vidlm: 'vidlm serve', llama: 'llama-server' } as const;
  const lines = [
    `A chat on the tiny Qwen2-VL fixture pair about a ${clipLabel} clip: the question with the video, then a follow-up with the whole history, streamed; the same ${FRAMES} frames at fps ${FPS} on both sides, those of the one-shot table (vidlm serve's own report of its frames, \`vidlm.media\`, checked equal to the ffmpeg filter's, indices and times, on every request; vidlm: \`"vidlm": { "strategy": "native", "fps": ${FPS}, "fpsRule": "ffmpeg" }\` per request; llama-server: \`${llamaVideo.join(' ')}\`), context 2048, ${THREADS} threads, \`--max-media-mb\` above the clip's size on vidlm serve, greedy, max_tokens ${MAX_TOKENS} (llama-server with \`ignore_eos\` and the vocabulary's byte tokens banned by \`logit_bias\`: its chat parser rejects the invalid UTF-8 they give with random weights). Each server a fresh process per run; the session is spawn → /health → both requests → SIGTERM → exit.`,
    '',
    '| request | server | time to first token | total | prompt tokens | cached tokens | prompt tokens evaluated | tokens generated | frames decoded / encoded |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const which of ['first', 'follow'] as const) {
    const label = which === 'first' ? 'question' : 'follow-up';
    for (const side of ['vidlm', 'llama'] as const) {
      const t = got[side].map((s) => s[which]);
      lines.push(`| ${label} | ${name[side]} | ${spread(t.map((x) => x.ttft))} | ${spread(t.map((x) => x.total))} | ${t[0]!.prompt} | ${t[0]!.cached} | ${t[0]!.evaluated} | ${t[0]!.generated} | ${t[0]!.media ? `${t[0]!.media.decoded} / ${t[0]!.media.encoded}` : 'not reported'} |`);
    }
    const v = got.vidlm.map((s) => s[which]), l = got.llama.map((s) => s[which]);
    lines.push(`| ${label} | ratio vidlm / llama-server | ${ratioCell(v.map((x) => x.ttft), l.map((x) => x.ttft))} | ${ratioCell(v.map((x) => x.total), l.map((x) => x.total))} | | | | | |`);
  }
  lines.push('', '| whole session | server | spawn to ready | spawn to exit | peak RSS |', '| --- | --- | ---: | ---: | ---: |');
  for (const side of ['vidlm', 'llama'] as const) {
    const s = got[side];
    lines.push(`| session | ${name[side]} | ${spread(s.map((x) => x.ready))} | ${spread(s.map((x) => x.whole))} | ${spread(s.map((x) => x.rssMb), mib)} |`);
  }
  const v = got.vidlm, l = got.llama;
  lines.push(`| session | ratio vidlm / llama-server | ${ratioCell(v.map((x) => x.ready), l.map((x) => x.ready))} | ${ratioCell(v.map((x) => x.whole), l.map((x) => x.whole))} | ${ratioCell(v.map((x) => x.rssMb), l.map((x) => x.rssMb))} |`);
  publish(run, { file: 'docs/video.md', section: 'qwen-video-serve', body: lines.join('\n'), runs: RUNS,
    statistic: 'client-side times over loopback HTTP and whole server processes (spawn to exit; RSS: the server\'s VmHWM), the two servers taking turns (order reversed every other run); cells are medians with min–max, ratios the ratio of medians with the range of per-run ratios; token counts as each server reports them in the first run' });
}

console.log(`clip ${CLIP}: ${DURATION} s; fps ${FPS} on both sides; model ${basename(MODEL)} + ${basename(MMPROJ)}; ${RUNS} runs, threads ${THREADS}`);
for (const part of PARTS) {
  if (part === 'ask') await askPart();
  else if (part === 'serve') await servePart();
  else throw new Error(`unknown part '${part}': ask or serve`);
}
