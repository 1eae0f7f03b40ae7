/**
 * `vidlm serve` against llama.cpp's own llama-server, built from the vendored tree with its video
 * path (the ffmpeg program through mtmd-helper; bench/reference-build.ts), on the same machine,
 * tiny model pair and a generated 60 s 720p clip. Each server is its own process, started fresh;
 * both get the clip from their media folder and the same question, first as a first turn and then
 * as the follow-up a chat client sends (the whole history again plus one new question), streamed.
 *
 * Printed for each: time to first token and total time (client side, over loopback HTTP), prompt
 * tokens and cached tokens as the server reports them, and the server process's peak RSS
 * (VmHWM). Ratios are vidlm / llama-server. llama-server samples the clip at its --video-fps
 * (server-wide; its default is 4, but llama-server caps a slot's context at the model's trained
 * length, 2048 tokens for the tiny pair, so 0.4 fps here: 24 frames of 64 tokens); vidlm with the
 * method chosen per request ('auto': Video-LLaVA's 8 frames on this model), both with a
 * 2048-token context. The same question, not the same frames: the point of per-request sampling
 * and pooling is to send fewer tokens.
 *
 * The follow-up row (issue #32): `--fps 1 --strategy concat --ctx-size 4096` samples vidlm's
 * requests at 1 fps (60 frames) and `--video-fps 1` gives llama-server the same frames; the table
 * adds the frames each turn decoded (vidlm's `vidlm.media[0].decoded`) and the follow-up's time to
 * first token over the first turn's, per server. llama-server is compared only where it is already
 * built (build-reference-video/); `--vidlm-only` (or no build) prints vidlm's rows alone.
 *
 * Run (outside CI): npm run build:ts && npm run bench -- serve [--repeat 3] [--video-fps 0.4]
 *   follow-up row: npm run bench -- serve --fps 1 --video-fps 1 --strategy concat --ctx-size 4096 [--vidlm-only]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { freeTcpPort } from '../test/fixtures/ports.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { benchRun, median, publish, spread } from './doc-table.js';
import { referenceServer } from './reference-build.js';
import { benchClip, waitReady } from './server-process.js';
import { sseJson } from './sse.js';

const run = benchRun('serve');
const { values } = parseArgs({ options: {
  'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' },
  repeat: { type: 'string' }, 'video-fps': { type: 'string' }, fps: { type: 'string' }, strategy: { type: 'string' }, 'ctx-size': { type: 'string' }, 'vidlm-only': { type: 'boolean' },
} });
const REPEAT = Number(values.repeat ?? 3);
const VIDEO_FPS = values['video-fps'] ?? '0.4';
const CTX = values['ctx-size'] ?? '2048';
/** vidlm's per-request sampling (default: the server's 'auto'). */
const VIDLM_OPTIONS = { ...(values.fps ? { fps: Number(values.fps) } : {}), ...(values.strategy ? { strategy: values.strategy } : {}) };
const QUESTION = 'What happens in this video?';
const FOLLOW_UP = 'What colour is the background at the end?';
const root = process.cwd();
const { dir, clip: CLIP } = benchClip(root, 'serve-60s-720p.mp4', 60, '1280x720');
const m = await tinyModels();
// llama-server only where it is built already, when the run asks for vidlm alone (a build takes long on a loaded machine)
const referenceBuilt = existsSync(join(root, 'build-reference-video', 'bin', 'llama-server'));
const llamaServer = values['vidlm-only'] ? null : values.fps && !referenceBuilt ? null : referenceServer(root);
if (!llamaServer) console.error(`llama-server is not compared: ${values['vidlm-only'] ? '--vidlm-only' : 'it is not built in build-reference-video/ (npm run bench -- serve builds it without --fps)'}`);

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;


interface Turn { ttft: number; total: number; prompt: number; cached: number; answer: string; decoded: number | null }

/** One streamed request: time to the first content piece and to [DONE], and the usage it reports. */
async function turn(url: string, messages: unknown[], extra: Record<string, unknown> = {}): Promise<Turn> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true }, ...extra }),
  });
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  let ttft = 0, answer = '', prompt = 0, cached = 0, decoded: number | null = null;
  for await (const j of sseJson(r.body!)) {
    const piece = j.choices?.[0]?.delta?.content;
    if (piece && !ttft) ttft = performance.now() - t0;
    if (piece) answer += piece;
    if (j.usage) { prompt = j.usage.prompt_tokens; cached = j.usage.prompt_tokens_details?.cached_tokens ?? 0; }
    if (j.timings && !cached) cached = j.timings.cache_n ?? 0; // llama-server's own field
    if (j.vidlm?.media) decoded = j.vidlm.media.reduce((n: number, x: { decoded: number }) => n + x.decoded, 0);
  }
  return { ttft: ttft || performance.now() - t0, total: performance.now() - t0, prompt, cached, answer, decoded };
}

async function session(name: 'vidlm' | 'llama-server'): Promise<{ first: Turn; follow: Turn; rss: number }> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child = name === 'vidlm'
    ? spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--media-path', dir, '--threads', '2', '--ctx-size', CTX], { stdio: 'ignore' })
    : spawn(llamaServer!, ['-m', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--host', '127.0.0.1', '--media-path', dir, '-t', '2', '-c', CTX, '-np', '1', '--video-fps', VIDEO_FPS, '--no-webui',
      // llama-server caps a slot at the model's trained length (2048 for the tiny pair); vidlm does not: the same context for both
      ...(Number(CTX) > 2048 ? ['--override-kv', `llama.context_length=int:${CTX}`] : [])], { stdio: 'ignore' });
  try {
    await waitReady(url, child);
    const video = name === 'vidlm'
      ? { type: 'video_url', video_url: { url: `file://${join(dir, CLIP)}` } }
      : { type: 'input_video', input_video: { url: `file://${CLIP}` } };
    const messages: unknown[] = [{ role: 'user', content: [video, { type: 'text', text: QUESTION }] }];
    const extra = name === 'vidlm' && Object.keys(VIDLM_OPTIONS).length > 0 ? { vidlm: VIDLM_OPTIONS } : {};
    const first = await turn(url, messages, extra);
    messages.push({ role: 'assistant', content: first.answer }, { role: 'user', content: FOLLOW_UP });
    const follow = await turn(url, messages, extra);
    return { first, follow, rss: peakRss(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const runs: Record<string, { first: Turn; follow: Turn; rss: number }[]> = { vidlm: [], 'llama-server': [] };
const servers = llamaServer ? ['llama-server', 'vidlm'] as const : ['vidlm'] as const;
for (let r = 0; r < REPEAT; r++) {
  // alternate, so a change in machine load hits both alike
  for (const name of servers) runs[name]!.push(await session(name));
}

type Row = { ttft: number[]; total: number[]; prompt: number; cached: number; rss: number[]; decoded: string };
const summary = (name: string, which: 'first' | 'follow'): Row => {
  const rs = runs[name]!;
  const d = rs[0]![which].decoded;
  return { ttft: rs.map((r) => r[which].ttft), total: rs.map((r) => r[which].total), prompt: rs[0]![which].prompt, cached: rs[0]![which].cached, rss: rs.map((r) => r.rss), decoded: d === null ? 'n/a' : String(d) };
};
const sampling = Object.keys(VIDLM_OPTIONS).length > 0 ? JSON.stringify(VIDLM_OPTIONS) : "'auto'";
const followUpRun = values.fps !== undefined;
const lines: string[] = [
  `vidlm serve (vidlm: ${sampling}) and llama-server (\`--video-fps ${VIDEO_FPS}\`) on a 60 s 720p clip, tiny model pair, context ${CTX} on both, max_tokens 8, streamed; each server a fresh process, the two taking turns run by run.`,
  '',
  '| turn | server | time to first token | total | prompt tokens | cached tokens | frames decoded | peak RSS (MiB) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const mib = (x: number) => x.toFixed(0);
const row = (label: string, name: string, r: Row) => lines.push(`| ${label} | ${name} | ${spread(r.ttft)} | ${spread(r.total)} | ${r.prompt} | ${r.cached} | ${r.decoded} | ${spread(r.rss, mib)} |`);
for (const which of ['first', 'follow'] as const) {
  const label = which === 'first' ? 'first turn' : 'follow-up';
  if (llamaServer) row(label, 'llama-server', summary('llama-server', which));
  row(label, 'vidlm serve', summary('vidlm', which));
  if (llamaServer) {
    const v = summary('vidlm', which), l = summary('llama-server', which);
    lines.push(`| ${label} | ratio vidlm / llama-server (medians) | ${(median(v.ttft) / median(l.ttft)).toFixed(2)}× | ${(median(v.total) / median(l.total)).toFixed(2)}× | ${(v.prompt / l.prompt).toFixed(3)} | | | ${(median(v.rss) / median(l.rss)).toFixed(2)}× |`);
  }
}
lines.push('');
for (const name of servers) {
  // per run, then the median: the follow-up against its own first turn, under the same load
  const ratios = runs[name]!.map((r) => r.follow.ttft / r.first.ttft);
  lines.push(`- ${name}: follow-up / first turn, time to first token: ${(median(ratios) * 100).toFixed(0)} % (runs: ${ratios.map((x) => (x * 100).toFixed(0)).join(', ')} %)`);
}
publish(run, {
  file: 'docs/serve.md', section: followUpRun ? 'serve-follow-up' : 'serve', body: lines.join('\n'), runs: REPEAT,
  statistic: 'each cell the median of the runs with min–max in brackets (client-side times over loopback HTTP; RSS: the server process\'s VmHWM)',
});
