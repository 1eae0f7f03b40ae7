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
 * Run (outside CI): npm run build:ts && npm run bench -- serve [--repeat 3] [--video-fps 0.4]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freeTcpPort } from '../test/fixtures/ports.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { referenceServer } from './reference-build.js';
import { benchClip, waitReady } from './server-process.js';

const { values } = parseArgs({ options: { repeat: { type: 'string' }, 'video-fps': { type: 'string' } } });
const REPEAT = Number(values.repeat ?? 3);
const VIDEO_FPS = values['video-fps'] ?? '0.4';
const QUESTION = 'What happens in this video?';
const FOLLOW_UP = 'What colour is the background at the end?';
const root = process.cwd();
const { dir, clip: CLIP } = benchClip(root, 'serve-60s-720p.mp4', 60, '1280x720');
const m = await tinyModels();
const llamaServer = referenceServer(root);

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;


interface Turn { ttft: number; total: number; prompt: number; cached: number; answer: string }

/** One streamed request: time to the first content piece and to [DONE], and the usage it reports. */
async function turn(url: string, messages: unknown[]): Promise<Turn> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  let ttft = 0, buf = '', answer = '', prompt = 0, cached = 0;
  const dec = new TextDecoder();
  for await (const bytes of r.body!) {
    buf += dec.decode(bytes as Uint8Array, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
      if (!data || data === '[DONE]') continue;
      const j = JSON.parse(data);
      const piece = j.choices?.[0]?.delta?.content;
      if (piece && !ttft) ttft = performance.now() - t0;
      if (piece) answer += piece;
      if (j.usage) { prompt = j.usage.prompt_tokens; cached = j.usage.prompt_tokens_details?.cached_tokens ?? 0; }
      if (j.timings && !cached) cached = j.timings.cache_n ?? 0; // llama-server's own field
    }
  }
  return { ttft: ttft || performance.now() - t0, total: performance.now() - t0, prompt, cached, answer };
}

async function session(name: 'vidlm' | 'llama-server'): Promise<{ first: Turn; follow: Turn; rss: number }> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child = name === 'vidlm'
    ? spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--media-path', dir, '--threads', '2', '--ctx-size', '2048'], { stdio: 'ignore' })
    : spawn(llamaServer, ['-m', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--host', '127.0.0.1', '--media-path', dir, '-t', '2', '-c', '2048', '-np', '1', '--video-fps', VIDEO_FPS, '--no-webui'], { stdio: 'ignore' });
  try {
    await waitReady(url, child);
    const video = name === 'vidlm'
      ? { type: 'video_url', video_url: { url: `file://${join(dir, CLIP)}` } }
      : { type: 'input_video', input_video: { url: `file://${CLIP}` } };
    const messages: unknown[] = [{ role: 'user', content: [video, { type: 'text', text: QUESTION }] }];
    const first = await turn(url, messages);
    messages.push({ role: 'assistant', content: first.answer }, { role: 'user', content: FOLLOW_UP });
    const follow = await turn(url, messages);
    return { first, follow, rss: peakRss(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs: Record<string, { first: Turn; follow: Turn; rss: number }[]> = { vidlm: [], 'llama-server': [] };
for (let r = 0; r < REPEAT; r++) {
  // alternate, so a change in machine load hits both alike
  for (const name of ['llama-server', 'vidlm'] as const) runs[name]!.push(await session(name));
}

type Row = { ttft: number; total: number; prompt: number; cached: number; rss: number };
const summary = (name: string, which: 'first' | 'follow'): Row => {
  const rs = runs[name]!;
  return { ttft: median(rs.map((r) => r[which].ttft)), total: median(rs.map((r) => r[which].total)), prompt: rs[0]![which].prompt, cached: rs[0]![which].cached, rss: median(rs.map((r) => r.rss)) };
};
console.log(`\nvidlm serve vs llama-server (${CLIP}, tiny model pair, max_tokens 8, median of ${REPEAT}; llama-server --video-fps ${VIDEO_FPS})\n`);
console.log('| turn | server | time to first token (ms) | total (ms) | prompt tokens | cached tokens | peak RSS (MiB) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const which of ['first', 'follow'] as const) {
  const v = summary('vidlm', which), l = summary('llama-server', which);
  const label = which === 'first' ? 'first turn' : 'follow-up';
  console.log(`| ${label} | llama-server | ${l.ttft.toFixed(0)} | ${l.total.toFixed(0)} | ${l.prompt} | ${l.cached} | ${l.rss.toFixed(0)} |`);
  console.log(`| ${label} | vidlm serve | ${v.ttft.toFixed(0)} | ${v.total.toFixed(0)} | ${v.prompt} | ${v.cached} | ${v.rss.toFixed(0)} |`);
  console.log(`| ${label} | ratio vidlm / llama-server | ${(v.ttft / l.ttft).toFixed(2)} | ${(v.total / l.total).toFixed(2)} | ${(v.prompt / l.prompt).toFixed(3)} | | ${(v.rss / l.rss).toFixed(2)} |`);
}
