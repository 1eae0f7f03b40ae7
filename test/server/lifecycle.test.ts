// Graceful shutdown (library and CLI): in-flight requests finish within the grace time or are
// aborted, queued ones get 503, the model is freed; `vidlm serve` stops on SIGTERM / SIGINT.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mediaDir, post, sseData, startServer, videoTurn } from './helpers.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const json = { 'content-type': 'application/json' };

/** Waits until a slot is working (the request has reached the server). */
async function busy(url: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const h = await (await fetch(`${url}/health`)).json() as { slots: { busy: number } };
    if (h.slots.busy > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('close(): a request that fits the grace time finishes, then the model is freed', async (t) => {
  const { server, url } = await startServer({ mediaPath: md.dir });
  const pending = post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 4 });
  await busy(url);
  await server.close({ graceMs: 60_000 });
  const r = await pending;
  t.equal(r.status, 200, 'finished within the grace time');
  t.equal(r.json.usage.completion_tokens, 4);
  t.ok(server.model.disposed, 'the model the server loaded is freed');
  await t.rejects(fetch(`${url}/health`), 'no longer listening');
});

t.test('close() with no grace: the running stream is aborted, the queued request gets 503', async (t) => {
  const { server, url } = await startServer({ mediaPath: md.dir, parallel: 1, queue: 4 });
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, body: JSON.stringify({ messages: [videoTurn('clip.mp4')], max_tokens: 1400, stream: true }) });
  const reader = r.body!.getReader();
  await reader.read();
  const queued = post(url, { messages: [videoTurn('clip.mp4', 'queued')], max_tokens: 2 });
  for (let i = 0; i < 200; i++) {
    const h = await (await fetch(`${url}/health`)).json() as { queue: number };
    if (h.queue === 1) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const closing = server.close({ graceMs: 0 });
  const q = await queued;
  t.equal(q.status, 503);
  t.equal(q.json.error.code, 'server_shutting_down');
  let text = '';
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await closing;
  const events = sseData(text);
  t.equal(events[events.length - 1], '[DONE]', 'the stream still ends properly');
  const err = JSON.parse(events[events.length - 2]!);
  t.equal(err.error.code, 'request_aborted', 'with an error event saying it was aborted');
  t.ok(server.model.disposed);
});

t.test('two servers on one loaded model answer at once; close() twice at once closes once', async (t) => {
  const m = await tinyModels();
  const { loadModel, createServer } = await import('../../lib/index.js');
  const model = await loadModel({ model: m.model, mmproj: m.mmproj!, threads: 1 });
  t.teardown(() => model.dispose());
  const [a, b] = await Promise.all([createServer({ model, mediaPath: md.dir }), createServer({ model, mediaPath: md.dir, parallel: 2 })]);
  const [ua, ub] = await Promise.all([a.listen({ port: 0 }), b.listen({ port: 0 })]);
  const rs = await Promise.all([ua, ub, ub].map((u, i) => post(u, { messages: [videoTurn('clip.mp4', `q${i}`)], max_tokens: 3 })));
  t.same(rs.map((r) => r.status), [200, 200, 200]);
  t.same(rs.map((r) => r.json.usage.completion_tokens), [3, 3, 3]);
  t.equal(rs.reduce((n, r) => n + r.json.vidlm.media[0].encoded, 0), 8, 'the shared embedding cache: one of them encoded the 8 frames, the others reused them');
  const c1 = b.close(), c2 = b.close();
  t.equal(c1, c2, 'the same shutdown');
  await Promise.all([c1, c2, a.close()]);
  t.notOk(model.disposed);
});

t.test('a model passed in is not freed by close()', async (t) => {
  const m = await tinyModels();
  const { loadModel, createServer } = await import('../../lib/index.js');
  const model = await loadModel({ model: m.model, mmproj: m.mmproj!, threads: 1 });
  t.teardown(() => model.dispose());
  const server = await createServer({ model, modelId: 'mine' });
  await server.listen({ port: 0 });
  await server.close();
  t.notOk(model.disposed);
  t.equal(server.modelId, 'mine');
});

t.test('a model passed in and disposed while the server runs: requests get 503 ERR_DISPOSED and /health says so, not ok', async (t) => {
  const m = await tinyModels();
  const { loadModel, createServer } = await import('../../lib/index.js');
  const model = await loadModel({ model: m.model, mmproj: m.mmproj!, threads: 1 });
  const server = await createServer({ model, mediaPath: md.dir });
  const url = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  t.equal((await fetch(`${url}/health`)).status, 200);
  model.dispose();
  const r = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 2 });
  t.equal(r.status, 503, JSON.stringify(r.json));
  t.equal(r.json.error.vidlm_code, 'ERR_DISPOSED');
  const h = await fetch(`${url}/health`);
  t.equal(h.status, 503, 'a load balancer stops sending requests that can only fail');
  t.same(await h.json(), { status: 'model_disposed' });
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`vidlm serve: VIDLM_API_KEY, then ${signal} shuts it down with exit code 0`, async (t) => {
    const m = await tinyModels();
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', '0', '--threads', '1', '--media-path', md.dir], {
      env: { ...process.env, VIDLM_API_KEY: 'from-env' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    t.equal((await fetch(`${url}/v1/models`)).status, 401, 'the key from VIDLM_API_KEY is required');
    t.equal((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer from-env' } })).status, 200);
    const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.kill(signal);
    t.equal(await code, 0);
    t.match(stderr, new RegExp(`${signal}, shutting down`));
  });
}

t.test('vidlm serve without --model is a usage error', async (t) => {
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  t.equal(await new Promise((r) => child.on('exit', r)), 2);
  t.match(stderr, /ERR_INVALID_ARG: serve needs --model and --mmproj/);
});
