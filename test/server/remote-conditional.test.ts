// A downloaded video is not downloaded again when its server says it has not changed (#32 item 1):
// the server keeps bodies that came with an ETag or Last-Modified, asks again with If-None-Match /
// If-Modified-Since, and on 304 reuses the kept bytes (same identity, so the follow-up also decodes
// nothing). Counted at the remote side: the test's HTTP server records each request's headers and
// whether it sent the body.
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { decoderTotals } from '../../lib/video/video.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const m = await tinyModels();
const md = await mediaDir();
t.teardown(md.cleanup);
const model = { model: m.model, mmproj: m.mmproj, threads: 1 };
const greedy = { temperature: 0, max_tokens: 3 };
const vidlm = { frames: 4, strategy: 'concat' };

/** A remote host for the clip: validators per mode, the body it serves swappable, every request recorded. */
async function remoteHost(mode: 'etag' | 'last-modified' | 'none') {
  let body: Buffer = readFileSync(md.clip), version = 1;
  const seen: { headers: IncomingMessage['headers']; status: number }[] = [];
  const srv = createServer((req, res) => {
    const etag = `"v${version}"`, modified = new Date(Date.UTC(2026, 0, version)).toUTCString();
    const fresh = (mode === 'etag' && req.headers['if-none-match'] === etag) ||
      (mode === 'last-modified' && req.headers['if-modified-since'] === modified);
    const status = fresh ? 304 : 200;
    seen.push({ headers: req.headers, status });
    const validators = mode === 'etag' ? { etag } : mode === 'last-modified' ? { 'last-modified': modified } : {};
    if (fresh) { res.writeHead(304, validators); res.end(); return; }
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length, ...validators });
    res.end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/clip.mp4`,
    seen,
    replace(next: Buffer) { body = next; version++; },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

async function ask(url: string, video: string) {
  const before = decoderTotals.framesDecoded;
  const r = await post(url, { messages: [videoTurn(video)], vidlm, ...greedy });
  if (r.status !== 200) throw new Error(JSON.stringify(r.json));
  return { media: r.json.vidlm.media[0], decodedHere: decoderTotals.framesDecoded - before, text: r.json.choices[0].message.content };
}

for (const mode of ['etag', 'last-modified'] as const) {
  t.test(`${mode}: a repeat gets 304 and reuses the bytes; a changed body is downloaded again`, async (t) => {
    const host = await remoteHost(mode);
    t.teardown(host.close);
    const { server, url } = await startServer({ model, allowRemote: true, allowPrivateAddresses: true });
    t.teardown(() => server.close());

    const first = await ask(url, host.url);
    t.equal(first.media.remote, 'downloaded');
    t.equal(host.seen[0]!.status, 200);
    t.notOk(host.seen[0]!.headers['if-none-match'] ?? host.seen[0]!.headers['if-modified-since'], 'the first request is not conditional');

    const again = await ask(url, host.url);
    t.equal(host.seen[1]!.status, 304, 'the repeat was answered 304: no body sent');
    t.ok(mode === 'etag' ? host.seen[1]!.headers['if-none-match'] === '"v1"' : host.seen[1]!.headers['if-modified-since'], 'asked with the validator');
    t.equal(again.media.remote, 'not_modified');
    t.equal(again.decodedHere, 0, 'the kept bytes have the same identity: nothing decoded');
    t.same([again.media.decoded, again.media.encoded, again.media.cached], [0, 0, 4]);
    t.equal(again.text, first.text, 'the same answer');

    // the remote file changes: a new validator, a full download, a new identity (decoded again)
    host.replace(readFileSync(md.still));
    const changed = await ask(url, host.url);
    t.equal(host.seen[2]!.status, 200, 'a changed body is sent in full');
    t.equal(changed.media.remote, 'downloaded');
    t.ok(changed.decodedHere >= 1, `the new video was decoded (${changed.decodedHere})`);
  });
}

t.test('without validators, or with --remote-cache-mb 0, every request downloads', async (t) => {
  const host = await remoteHost('none');
  t.teardown(host.close);
  const a = await startServer({ model, allowRemote: true, allowPrivateAddresses: true });
  t.teardown(() => a.server.close());
  await ask(a.url, host.url);
  const again = await ask(a.url, host.url);
  t.equal(again.media.remote, 'downloaded');
  t.same(host.seen.map((s) => s.status), [200, 200]);
  t.notOk(host.seen[1]!.headers['if-none-match'] ?? host.seen[1]!.headers['if-modified-since'], 'nothing to be conditional on');
  t.equal(again.decodedHere, 0, 'the same bytes hash to the same identity: the media memo still spares the decode');

  const tagged = await remoteHost('etag');
  t.teardown(tagged.close);
  const b = await startServer({ model, allowRemote: true, allowPrivateAddresses: true, remoteCacheMb: 0 });
  t.teardown(() => b.server.close());
  await ask(b.url, tagged.url);
  await ask(b.url, tagged.url);
  t.same(tagged.seen.map((s) => s.status), [200, 200], 'no body kept: no conditional request');
});

t.test('remoteCacheMb is validated', async (t) => {
  await t.rejects(startServer({ model, remoteCacheMb: -1 }), { code: 'ERR_INVALID_ARG' });
});

t.test('two concurrent requests for one kept URL both reuse it', async (t) => {
  const host = await remoteHost('etag');
  t.teardown(host.close);
  const { server, url } = await startServer({ model, allowRemote: true, allowPrivateAddresses: true, parallel: 2 });
  t.teardown(() => server.close());
  await ask(url, host.url);
  const both = await Promise.all([ask(url, host.url), ask(url, host.url)]);
  t.same(both.map((b) => b.media.remote), ['not_modified', 'not_modified']);
  t.same(host.seen.map((s) => s.status), [200, 304, 304]);
});
