/**
 * The queue over TLS with AUTH (`rediss://:password@host:port`): a redis-server with only a TLS
 * port and `requirepass`, a self-signed certificate trusted through NODE_EXTRA_CA_CERTS. Jobs go
 * through a worker and back; a wrong password, plain redis:// and an untrusted certificate are
 * ERR_QUEUE_CONNECT, with the password never printed.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { Cli, cliSync, freePort, quick, readResults, sleep, writeJobs } from './helpers.js';

const models = await tinyModels();
const clip = await media.h264();

t.test('rediss:// with AUTH: enqueue, work and collect; wrong password, plain TCP, untrusted CA refused', async (t) => {
  const dir = t.testdir();
  const key = join(dir, 'key.pem'), cert = join(dir, 'cert.pem'), log = join(dir, 'redis.log');
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  t.equal(ssl.status, 0, ssl.stderr);
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key,
    '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', 'pa55word', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', log], { stdio: 'ignore' });
  t.teardown(() => { redis.kill('SIGKILL'); });
  for (let i = 0; i < 100 && !readFileSync(log, { encoding: 'utf8', flag: 'a+' }).includes('Ready to accept connections'); i++) await sleep(50);

  const url = `rediss://:pa55word@127.0.0.1:${port}`;
  const trust = { NODE_EXTRA_CA_CERTS: cert };
  const jobs = writeJobs(dir, 'jobs.jsonl', [{ id: 'a', video: clip, task: 'ask', question: 'q' }, { id: 'b', video: clip, task: 'describe' }]);
  const out = join(dir, 'results.jsonl');
  const worker = new Cli(['worker', '--queue', url, '--model', models.model, '--mmproj', models.mmproj, '--threads', '1', '--json'], trust);
  const ready = await worker.waitFor((e) => e.event === 'ready');
  t.equal(ready.queue, `rediss://:***@127.0.0.1:${port}`, 'the password is masked');
  const collected = cliSync(['batch', jobs, '--queue', url, '--out', out, ...quick], 300_000, trust);
  t.equal(collected.status, 0, collected.stderr);
  const lines = readResults(out);
  t.same(lines.map((l) => l.id).sort(), ['a', 'b']);
  t.ok(lines.every((l) => !l.error && l.tokens.generated >= 1));
  const status = cliSync(['batch', '--queue', url, '--status', '--json'], 60_000, trust);
  t.match(JSON.parse(status.stdout), { done: 2, failed: 0, workers: 1 });
  worker.kill('SIGTERM');
  t.equal(await worker.exited, 0, worker.stderr);

  const refused = [
    [`rediss://:wrong@127.0.0.1:${port}`, trust, /WRONGPASS/],
    [`redis://:pa55word@127.0.0.1:${port}`, trust, /ERR_QUEUE_CONNECT/],
    [url, {}, /self-signed certificate/],
  ] as const;
  for (const [u, env, why] of refused) {
    const r = cliSync(['batch', '--queue', u, '--status', '--connect-timeout', '2'], 60_000, env);
    t.equal(r.status, 1);
    t.match(r.stderr, /^vidlm: ERR_QUEUE_CONNECT: cannot reach Redis at /);
    t.match(r.stderr, why);
    t.notMatch(r.stderr, /pa55word|wrong@/, 'no password in the message');
  }
});
