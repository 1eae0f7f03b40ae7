// Only media reaches FFmpeg (#29 item 1): a data URL, a file of the media folder or a download is
// opened with FFmpeg's format and protocol allow-lists, so an SDP session description (which makes
// FFmpeg listen on UDP ports the client picks), an HLS playlist (which opens other files and URLs)
// or a subtitle file that is really an SDP text gets a 4xx and opens no socket.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 1, mediaPath: md.dir, requestTimeout: 8 });
t.teardown(() => server.close());

/** Whether a UDP socket (IPv4 or IPv6) is bound to `port` in this network namespace. */
function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return ['/proc/net/udp', '/proc/net/udp6'].some((f) => {
    try { return readFileSync(f, 'utf8').split('\n').slice(1).some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex.trim())); } catch { return false; }
  });
}

const sdp = (port: number) => Buffer.from([
  'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=x', 'c=IN IP4 127.0.0.1', 't=0 0',
  `m=video ${port} RTP/AVP 96`, 'a=rtpmap:96 H264/90000', `m=audio ${port + 2} RTP/AVP 97`, 'a=rtpmap:97 L16/16000/1', '',
].join('\n'));

/** Posts `body` and watches the UDP table while the request runs: its status and whether `port` was ever bound. */
async function postWatchingUdp(body: unknown, port: number): Promise<{ status: number; json: any; bound: boolean }> {
  let bound = false;
  const watch = setInterval(() => { bound ||= udpBound(port) || udpBound(port + 2); }, 20);
  try {
    const r = await post(url, body);
    bound ||= udpBound(port) || udpBound(port + 2);
    return { ...r, bound };
  } finally {
    clearInterval(watch);
  }
}

const port = () => 40000 + Math.floor(Math.random() * 20000) * 2;

t.test('an SDP data URL declared as application/sdp is refused by its type', async (t) => {
  const p = port();
  const r = await postWatchingUdp({ messages: [videoTurn(`data:application/sdp;base64,${sdp(p).toString('base64')}`)], max_tokens: 2 }, p);
  t.equal(r.status, 400, JSON.stringify(r.json));
  t.equal(r.json.error.code, 'invalid_media');
  t.equal(r.json.error.param, 'messages[0].content[0].video_url');
  t.notOk(r.bound, 'no UDP socket was opened');
});

for (const type of ['video/mp4', 'image/png', 'audio/wav']) {
  t.test(`an SDP text declared as ${type} is refused by the demuxer allow-list, with no socket opened`, async (t) => {
    const p = port();
    const r = await postWatchingUdp({ messages: [videoTurn(`data:${type};base64,${sdp(p).toString('base64')}`)], max_tokens: 2 }, p);
    t.ok(r.status >= 400 && r.status < 500, `4xx (got ${r.status} ${JSON.stringify(r.json)})`);
    t.equal(r.json.error.code, 'invalid_media');
    t.notOk(r.bound, 'no UDP socket was opened');
  });
}

t.test('an SDP text in llama-server\'s input_video part is refused', async (t) => {
  const p = port();
  const r = await postWatchingUdp({ messages: [{ role: 'user', content: [{ type: 'input_video', input_video: { data: sdp(p).toString('base64'), format: 'sdp' } }, { type: 'text', text: 'x' }] }], max_tokens: 2 }, p);
  t.ok(r.status >= 400 && r.status < 500, `4xx (got ${r.status})`);
  t.notOk(r.bound, 'no UDP socket was opened');
});

t.test('an SDP file in the media folder is refused with no socket opened', async (t) => {
  const p = port();
  writeFileSync(join(md.dir, 'session.mp4'), sdp(p));
  const r = await postWatchingUdp({ messages: [videoTurn('session.mp4')], max_tokens: 2 }, p);
  t.equal(r.status, 400, JSON.stringify(r.json));
  t.equal(r.json.error.code, 'invalid_media');
  t.notOk(r.bound, 'no UDP socket was opened');
});

t.test('a subtitle file that holds an SDP text is not opened as SDP', async (t) => {
  const p = port();
  writeFileSync(join(md.dir, 'session.srt'), sdp(p));
  const r = await postWatchingUdp({ messages: [videoTurn('clip.mp4')], vidlm: { subtitles: 'session.srt', frames: 2 }, max_tokens: 2 }, p);
  t.ok(r.status < 500, `no 5xx (got ${r.status})`);
  t.notOk(r.bound, 'no UDP socket was opened');
});

t.test('an HLS playlist (data URL or file) that names a file outside the folder is refused', async (t) => {
  const playlist = Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nfile://${md.outside}\n#EXT-X-ENDLIST\n`);
  const r1 = await post(url, { messages: [videoTurn(`data:video/mp4;base64,${playlist.toString('base64')}`)], max_tokens: 2 });
  t.equal(r1.status, 400, JSON.stringify(r1.json));
  t.equal(r1.json.error.code, 'invalid_media');
  writeFileSync(join(md.dir, 'list.m3u8'), playlist);
  const r2 = await post(url, { messages: [videoTurn('list.m3u8')], max_tokens: 2 });
  t.equal(r2.status, 400, JSON.stringify(r2.json));
  t.equal(r2.json.error.code, 'invalid_media');
});

t.test('a data URL with a text or empty type is refused', async (t) => {
  const png = readFileSync(md.still).toString('base64');
  for (const type of ['text/plain', '', 'application/octet-stream']) {
    const r = await post(url, { messages: [videoTurn(`data:${type};base64,${png}`)], max_tokens: 2 });
    t.equal(r.status, 400, `${type}: ${JSON.stringify(r.json)}`);
    t.equal(r.json.error.code, 'invalid_media');
  }
});

t.test('media still opens: an mp4 from the folder, a PNG and a JPEG as data URLs', async (t) => {
  const clip = await post(url, { messages: [videoTurn('clip.mp4')], vidlm: { frames: 2 }, max_tokens: 2 });
  t.equal(clip.status, 200, JSON.stringify(clip.json));
  for (const [type, file] of [['image/png', md.still], ['image/jpeg', md.photo]] as const) {
    const r = await post(url, { messages: [videoTurn(`data:${type};base64,${readFileSync(file).toString('base64')}`)], max_tokens: 2 });
    t.equal(r.status, 200, `${type}: ${JSON.stringify(r.json)}`);
  }
  const photo = await post(url, { messages: [videoTurn('photo.jpg')], max_tokens: 2 });
  t.equal(photo.status, 200, JSON.stringify(photo.json));
});
