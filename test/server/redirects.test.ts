// Every hop checked (#29 item 4): under --allow-remote (no --allow-private), a public URL whose
// redirect leads to a loopback, link-local (cloud metadata), IPv4-mapped IPv6 or named private
// address is refused, redirects are bounded, and client messages say "refused" without the remote
// side's status or ports. Runs in a network namespace the test creates (unshare -n, as root) where
// a redirector listens on a public address; skipped where that is not possible.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir } from './helpers.js';

const canNetns = (() => {
  try { execFileSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

t.test('redirects to private addresses are refused under --allow-remote', { skip: canNetns ? false : 'needs root, unshare and ip (network namespaces)' }, async (t) => {
  const md = await mediaDir();
  t.teardown(md.cleanup);
  const m = await tinyModels();
  const helper = fileURLToPath(new URL('./netns-redirects.mjs', import.meta.url));
  const run = spawnSync('unshare', ['-n', process.execPath, helper, m.model, m.mmproj!, md.clip], { encoding: 'utf8', timeout: 180_000 });
  t.equal(run.status, 0, run.stderr.slice(-2000));
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, { status: number; code: string | null; message: string | null }> & { loopbackPort: number };
  t.equal(r['/direct']!.status, 200, 'a public URL is fetched');
  t.equal(r['/to-public']!.status, 200, 'a redirect to a public URL is followed');
  for (const path of ['/to-loopback', '/to-loopback-2hops', '/to-metadata', '/to-mapped', '/to-localhost']) {
    t.equal(r[path]!.status, 403, `${path}: ${JSON.stringify(r[path])}`);
    t.equal(r[path]!.code, 'private_address', path);
    t.match(r[path]!.message, /refused/, path);
    t.notMatch(r[path]!.message, new RegExp(`127\\.0\\.0\\.1|169\\.254|${r.loopbackPort}`), `${path}: the message names no private address or port`);
  }
  t.equal(r['/to-file']!.status, 400, 'a redirect to a file: URL is refused');
  t.equal(r['/loop']!.status, 400, 'a redirect loop ends after a bounded count');
  t.match(r['/loop']!.message, /redirects/);
  t.equal(r['/missing']!.status, 400);
  t.match(r['/missing']!.message, /refused/);
  t.notMatch(r['/missing']!.message, /404|31337/, 'no remote status or body in the message');
});
