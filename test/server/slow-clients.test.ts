// Slow clients cannot hold the server (#29 item 2): bodies that trickle in take no place in the
// slot queue (admission counts a request once its body is complete), are cut off with 408 when they
// fall below the minimum rate or run past the body deadline (--timeout counts the body too), and one
// client address holds at most --max-connections-per-client connections.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { mediaDir, spawnServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);

/** A client that sends its headers, announcing a large body, then one byte every `everyMs`. */
function trickle(url: string, everyMs: number): { sock: Socket; answer: Promise<string>; stop(): void } {
  const { port } = new URL(url);
  const sock = connect(Number(port), '127.0.0.1');
  sock.on('error', () => {});
  sock.write('POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
  const timer = setInterval(() => { if (!sock.destroyed) sock.write(' '); }, everyMs);
  const answer = new Promise<string>((res) => { let got = ''; sock.on('data', (d) => { got += d; }); sock.on('close', () => { clearInterval(timer); res(got); }); });
  return { sock, answer, stop: () => { clearInterval(timer); sock.destroy(); } };
}

const ask = (url: string, signal?: AbortSignal) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, signal,
  body: JSON.stringify({ messages: [videoTurn('clip.mp4')], vidlm: { frames: 2 }, max_tokens: 2 }),
});

t.test('4 trickling clients at --parallel 1 --queue 2 do not keep an honest request from its 200', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--queue', '2', '--media-path', md.dir]);
  t.teardown(srv.stop);
  const slow = Array.from({ length: 4 }, () => trickle(srv.url, 2000));
  t.teardown(() => slow.forEach((s) => s.stop()));
  await new Promise((r) => setTimeout(r, 500)); // their headers are in
  const t0 = performance.now();
  let status = 0;
  // an honest client retries a 503 as Retry-After says, for at most 40 s
  while (performance.now() - t0 < 40_000) {
    const r = await ask(srv.url, AbortSignal.timeout(40_000));
    status = r.status;
    await r.text();
    if (status === 200) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  t.equal(status, 200, `the honest request got ${status} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // the tricklers are cut off by the minimum rate: 408, connection closed
  const answers = await Promise.all(slow.map((s) => Promise.race([s.answer, new Promise<string>((r) => setTimeout(() => r('still open after 20 s'), 20_000))])));
  for (const a of answers) t.match(a, /^HTTP\/1\.1 408/, 'a trickling body gets 408 and its connection closed');
  t.match(answers[0]!, /body_timeout/);
});

t.test('--timeout covers the body: one that arrives above the minimum rate but past the deadline gets 408', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--timeout', '3', '--min-body-rate', '0', '--media-path', md.dir]);
  t.teardown(srv.stop);
  const s = trickle(srv.url, 200);
  t.teardown(s.stop);
  const t0 = performance.now();
  const answer = await Promise.race([s.answer, new Promise<string>((r) => setTimeout(() => r('still open after 15 s'), 15_000))]);
  t.match(answer, /^HTTP\/1\.1 408/);
  t.ok(performance.now() - t0 < 10_000, 'cut off near the 3 s deadline, not the default 60 s');
  const r = await ask(srv.url);
  t.equal(r.status, 200, 'the server still serves');
});

t.test('one client address holds at most --max-connections-per-client connections', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--max-connections-per-client', '3', '--media-path', md.dir]);
  t.teardown(srv.stop);
  const held = Array.from({ length: 3 }, () => trickle(srv.url, 1000));
  t.teardown(() => held.forEach((s) => s.stop()));
  await new Promise((r) => setTimeout(r, 300));
  const fourth = trickle(srv.url, 1000);
  t.teardown(fourth.stop);
  const answer = await Promise.race([fourth.answer, new Promise<string>((r) => setTimeout(() => r('no answer'), 5000))]);
  t.match(answer, /^HTTP\/1\.1 429/, 'the fourth connection is answered 429 and closed');
  t.match(answer, /too_many_connections/);
  held.forEach((s) => s.stop());
  await new Promise((r) => setTimeout(r, 300));
  const r = await ask(srv.url);
  t.equal(r.status, 200, 'a connection is taken again once the others closed');
});

t.test('a request whose body came in time but whose work outlives the body deadline ends with 408 request_timeout; the server lives on', async (t) => {
  const srv = await spawnServer(['--parallel', '1', '--timeout', '1', '--body-timeout', '0.5', '--media-path', md.dir]);
  t.teardown(srv.stop);
  // the work must outlive --timeout: a schema with no end before 20 × 400 letters runs all 1500
  // tokens (random weights may otherwise end at once)
  const long = { type: 'array', minItems: 20, items: { type: 'string', minLength: 400, maxLength: 400 } };
  const r = await fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [videoTurn('clip.mp4')], max_tokens: 1500, response_format: { type: 'json_schema', json_schema: { name: 'long', schema: long } } }) });
  t.equal(r.status, 408);
  t.equal(((await r.json()) as { error: { code: string } }).error.code, 'request_timeout');
  t.equal((await fetch(`${srv.url}/health`)).status, 200, 'the server process is still serving');
});
