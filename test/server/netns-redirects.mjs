// Runs inside a fresh network namespace (unshare -n, from redirects.test.ts): 93.184.215.14 is
// put on its loopback device, so a redirector there is a "public" server, while a media server
// listens on 127.0.0.1. A vidlm server with --allow-remote (and no --allow-private) is then asked
// for URLs whose redirects lead to loopback, link-local, mapped and named private addresses.
// Prints one JSON line: each case's status, code and message.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from '../../dist/index.js';

const [modelPath, mmprojPath, clip] = process.argv.slice(2);
const PUBLIC = '93.184.215.14';
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('ip', ['addr', 'add', `${PUBLIC}/32`, 'dev', 'lo']);

const bytes = readFileSync(clip);
const listen = (srv, host) => new Promise((r) => srv.listen(0, host, () => r(srv.address().port)));
const media = createHttpServer((req, res) => { res.writeHead(200, { 'content-type': 'video/mp4' }); res.end(bytes); });
const lport = await listen(media, '127.0.0.1');
const routes = {
  '/direct': null,
  '/to-public': '/direct',
  '/to-loopback': `http://127.0.0.1:${lport}/clip.mp4`,
  '/to-loopback-2hops': '/to-loopback',
  '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
  '/to-mapped': `http://[::ffff:127.0.0.1]:${lport}/clip.mp4`,
  '/to-localhost': `http://localhost:${lport}/clip.mp4`,
  '/to-file': 'file:///etc/passwd',
  '/loop': '/loop',
  '/missing': 404,
};
const redirector = createHttpServer((req, res) => {
  const to = routes[req.url];
  if (to === null) { res.writeHead(200, { 'content-type': 'video/mp4' }); res.end(bytes); return; }
  if (typeof to === 'number' || to === undefined) { res.writeHead(404); res.end('no such thing at port 31337'); return; }
  res.writeHead(302, { location: to });
  res.end();
});
const pport = await listen(redirector, PUBLIC);

const server = await createServer({ model: { model: modelPath, mmproj: mmprojPath, threads: 1 }, contextSize: 2048, allowRemote: true, remoteTimeout: 5 });
const url = await server.listen({ host: '127.0.0.1', port: 0 });
const out = { loopbackPort: lport };
for (const path of Object.keys(routes)) {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: `http://${PUBLIC}:${pport}${path}` } }, { type: 'text', text: 'x' }] }], vidlm: { frames: 2 }, max_tokens: 1 }),
  });
  const j = await r.json();
  out[path] = { status: r.status, code: j.error?.code ?? null, message: j.error?.message ?? null };
}
// a direct IP-literal URL to loopback, for comparison
await server.close();
media.close();
redirector.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
