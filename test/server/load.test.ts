// Load on loopback, bounded: 64 streaming requests at --parallel 2 --queue 16 (each completes or
// gets 503, none hangs), /health answering while slots generate, clients that leave mid-stream
// freeing their slots, and RSS flat from 100 to 500 requests.
import t from 'tap';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mediaDir, post, spawnServer, sseData, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 2, queue: 16, mediaPath: md.dir });
t.teardown(() => server.close());
const json = { 'content-type': 'application/json' };

async function health(): Promise<{ busy: number; queue: number }> {
  const h = await (await fetch(`${url}/health`)).json() as { slots: { busy: number }; queue: number };
  return { busy: h.slots.busy, queue: h.queue };
}

async function idle(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const h = await health();
    if (h.busy === 0 && h.queue === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the slots never became idle');
}

const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);

t.test('64 concurrent streams at --parallel 2 --queue 16: each completes or gets 503; /health stays fast', async (t) => {
  // As deployed: `vidlm serve` in its own process, a health checker in another, the clients here.
  const srv = await spawnServer(['--parallel', '2', '--queue', '16', '--media-path', md.dir]);
  t.teardown(srv.stop);
  const probe = fork(fileURLToPath(new URL('./health-probe.mjs', import.meta.url)), [srv.url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => probe.once('message', r));
  const probed = new Promise<{ ms: number; status: number; busy: number }[]>((r) => probe.once('message', r as never));
  const one = async (i: number) => {
    const ctl = AbortSignal.timeout(120_000); // a request that hangs fails the test
    const r = await fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', headers: json, signal: ctl, body: JSON.stringify({ messages: [videoTurn('clip.mp4', `Question ${i}`)], max_tokens: 16, stream: true }) });
    if (r.status === 503) {
      const body = await r.json() as { error: { code: string } };
      return { kind: 'rejected' as const, retryAfter: r.headers.get('retry-after'), code: body.error.code };
    }
    const events = sseData(await r.text());
    return { kind: 'done' as const, status: r.status, last: events[events.length - 1], finish: JSON.parse(events[events.length - 2]!).choices[0]?.finish_reason };
  };
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) => one(i)));
  probe.send('stop');
  const seen = await probed;
  const done = results.filter((r) => r.kind === 'done');
  const rejected = results.filter((r) => r.kind === 'rejected');
  t.equal(done.length + rejected.length, 64, 'none lost');
  t.ok(done.length >= 18, `${done.length} completed: at least the 2 running and the 16 queued`);
  t.ok(rejected.length > 0, `${rejected.length} got 503: the queue is bounded`);
  t.ok(done.every((r) => r.kind === 'done' && r.status === 200 && r.last === '[DONE]' && (r.finish === 'length' || r.finish === 'stop')), 'every admitted stream ends with a finish_reason and [DONE]');
  t.ok(rejected.every((r) => r.kind === 'rejected' && r.retryAfter === '1' && r.code === 'server_busy'), '503s carry Retry-After and server_busy');
  t.ok(seen.every((h) => h.status === 200), 'every /health probe answered 200');
  const whileBusy = seen.filter((h) => h.busy === 2).length;
  t.ok(whileBusy >= 10, `${whileBusy} of ${seen.length} probes answered while both slots were busy`);
  // The bound. Latency on a shared machine is the scheduler's as much as the server's
  // (the team shows speed by benchmarks, not timed assertions): printed always, asserted with
  // VIDLM_TIMING_ASSERTS=1; `npm run bench -- serve-load` measures it against llama-server's.
  const lat = seen.map((h) => h.ms).sort((a, b) => a - b);
  const p50 = lat[Math.floor(lat.length / 2)]!;
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!;
  t.comment(`/health latency under load: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms over ${lat.length} probes`);
  if (process.env.VIDLM_TIMING_ASSERTS === '1') t.ok(p99 < 50, `/health p99 ${p99.toFixed(1)} ms < 50 ms`);
  const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${srv.url}/metrics`)).text())?.[1] ?? 0);
  for (let i = 0; i < 600 && ((await (await fetch(`${srv.url}/health`)).json() as { slots: { busy: number } }).slots.busy > 0); i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(await metric(/^vidlm_errors_total\{code="server_busy"\} (\d+)/m), rejected.length, '503s counted by code');
});

t.test('clients that disconnect mid-stream abort their generation and free their slots', async (t) => {
  const before = await metric(/^vidlm_errors_total\{code="request_aborted"\} (\d+)/m);
  const leave = async (i: number) => {
    const ctl = new AbortController();
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, signal: ctl.signal, body: JSON.stringify({ messages: [videoTurn('clip.mp4', `Long ${i}`)], max_tokens: 1400, stream: true }) });
    t.equal(r.status, 200);
    const reader = r.body!.getReader();
    await reader.read(); // the first chunk: generation has started
    ctl.abort();
    await reader.cancel().catch(() => {});
  };
  await Promise.all(Array.from({ length: 6 }, (_, i) => leave(i)));
  await idle();
  const aborted = await metric(/^vidlm_errors_total\{code="request_aborted"\} (\d+)/m);
  t.equal(aborted - before, 6, 'each left stream was aborted, not generated to the end');
  const r = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 3 });
  t.equal(r.status, 200, 'the slots serve again');
});

t.test('RSS after 500 requests is within 10% of RSS after 100', async (t) => {
  const batch = async (n: number) => {
    for (let i = 0; i < n; i += 4) {
      await Promise.all([0, 1, 2, 3].map(async (k) => {
        const r = await post(url, { messages: [videoTurn('clip.mp4', `Q${(i + k) % 7}`)], max_tokens: 2 });
        if (r.status !== 200) throw new Error(JSON.stringify(r.json));
      }));
    }
  };
  const rss = () => { (globalThis as { gc?: () => void }).gc?.(); return process.memoryUsage().rss; };
  await batch(100);
  const at100 = rss();
  await batch(400);
  const at500 = rss();
  t.ok(at500 <= at100 * 1.1, `RSS ${(at100 / 2 ** 20).toFixed(0)} MiB after 100, ${(at500 / 2 ** 20).toFixed(0)} MiB after 500`);
});
