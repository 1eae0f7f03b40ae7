// Admission once a request's body is complete (a missing body holds no place); past --parallel +
// --queue a request gets its 503 on its headers, before its body is read (a burst costs the event
// loop little), and every way a request can end (answered, refused by validation, its client gone
// mid-body, mid-stream) lets it out again.
import t from 'tap';
import { connect } from 'node:net';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 1, queue: 0, mediaPath: md.dir });
t.teardown(() => server.close({ graceMs: 0 }));
const { port } = new URL(url);
const json = { 'content-type': 'application/json' };

/** Sends only the headers of a POST that announces a body, and returns the first bytes the server answers. */
function headersOnly(length: number): Promise<{ reply: Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => {
      sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
      const reply = new Promise<string>((res) => { let got = ''; sock.on('data', (d) => { got += d; if (got.includes('\r\n\r\n')) res(got); }); sock.on('close', () => res(got)); });
      resolve({ reply, close: () => sock.destroy() });
    });
    sock.on('error', reject);
  });
}

const admitted = async () => ((await (await fetch(`${url}/health`)).json()) as { slots: { busy: number } }).slots.busy;

t.test('a body that has not arrived holds no place; past parallel + queue a request gets 503 on its headers', async (t) => {
  // a client that sends its headers and never its body takes no place in the queue (#29 item 2)
  const waiting = await headersOnly(1000);
  t.equal((await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status, 200, 'the one place is free while a body is missing');
  waiting.close();
  // the one place taken by an admitted request (a stream): the next is refused on its headers
  const ctl = new AbortController();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, signal: ctl.signal, body: JSON.stringify({ messages: [videoTurn('clip.mp4')], max_tokens: 1400, stream: true }) });
  const reader = r.body!.getReader();
  await reader.read();
  const second = await headersOnly(1_000_000);
  const answer = await Promise.race([second.reply, new Promise<string>((r) => setTimeout(() => r('no answer in 10 s'), 10_000))]);
  t.match(answer, /^HTTP\/1\.1 503/, 'refused at once, not after a body that never comes');
  t.match(answer.toLowerCase(), /retry-after: 1/);
  second.close();
  ctl.abort();
  await reader.cancel().catch(() => {});
  let ok = 0;
  for (let i = 0; i < 200 && ok !== 200; i++) {
    ok = (await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status;
    if (ok !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(ok, 200, 'the place is free again once that client left');
});

t.test('requests that fail validation, bad JSON or bad media let their place go', async (t) => {
  for (let i = 0; i < 5; i++) {
    t.equal((await post(url, { messages: 'nope' })).status, 400);
    t.equal((await post(url, '{"messages": [')).status, 400);
    t.equal((await post(url, { messages: [videoTurn('missing.mp4')], max_tokens: 1 })).status, 400);
  }
  t.equal((await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status, 200, 'after 15 refusals, one place is still there');
});

t.test('a streaming client that leaves mid-answer lets its place go', async (t) => {
  const ctl = new AbortController();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, signal: ctl.signal, body: JSON.stringify({ messages: [videoTurn('clip.mp4')], max_tokens: 1400, stream: true }) });
  const reader = r.body!.getReader();
  await reader.read();
  t.equal((await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status, 503, 'full while it streams');
  ctl.abort();
  await reader.cancel().catch(() => {});
  let status = 0;
  for (let i = 0; i < 200 && status !== 200; i++) {
    status = (await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(status, 200);
  t.equal(await admitted(), 0, 'no slot left busy');
});
