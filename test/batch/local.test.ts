/**
 * `vidlm batch` on one machine (the built CLI in child processes): bad lines and failing jobs
 * become coded error lines while the rest complete; --parallel runs jobs at once; a run killed
 * (SIGKILL) or interrupted (SIGINT) half-way and rerun gives every id exactly once; `vidlm eval`
 * scores the results file as it is.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { Cli, cliSync, idCounts, quick, readResults, ResultsById, writeJobs, type Event } from './helpers.js';

const models = await tinyModels();
const modelArgs = ['--model', models.model, '--mmproj', models.mmproj, '--threads', '1'];
const clip = await media.h264();

t.test('bad lines and failing jobs get error lines with codes; the rest complete; eval reads the file', async (t) => {
  const dir = t.testdir();
  const jobs = writeJobs(dir, 'jobs.jsonl', [
    { id: 'q1', video: clip, task: 'ask', question: 'Which letter? (A) one (B) two' },
    'not json at all',
    { id: 'missing', video: join(dir, 'gone.mp4'), task: 'ask', question: 'what?' },
    { id: 'broken', video: await media.truncatedNoIndex(), task: 'describe' },
    { id: 'unknown', video: clip, task: 'summarize' },
    { id: 'noq', video: clip, task: 'ask' },
    { id: 'badopt', video: clip, task: 'ask', question: 'x', options: { frames: 1, bogus: true } },
    { id: 'q1', video: clip, task: 'ask', question: 'a second q1' },
    { id: 'loc', video: clip, task: 'localize', question: 'the counter changes', options: { maxTokens: 8 } },
    { id: 'full', video: clip, task: 'ask', question: 'x', options: { frames: 64, strategy: 'concat' } },
  ]);
  const out = join(dir, 'results.jsonl');
  const r = cliSync(['batch', jobs, ...modelArgs, '--out', out, ...quick]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /10 done \(8 failed\)/);
  const lines = readResults(out);
  const by = new ResultsById(lines);
  t.equal(lines.length, 10);
  t.equal(by.get('line:2').error.code, 'ERR_INVALID_ARG');
  t.equal(by.get('line:8').error.code, 'ERR_INVALID_ARG', 'a duplicate id is an error line of its own');
  t.match(by.get('line:8').error.message, /duplicate id "q1"/);
  t.equal(by.get('missing').error.code, 'ERR_VIDEO_OPEN');
  t.match(by.get('broken').error.code, /^ERR_VIDEO_/);
  t.equal(by.get('unknown').error.code, 'ERR_INVALID_ARG');
  t.equal(by.get('noq').error.code, 'ERR_INVALID_ARG');
  t.match(by.get('badopt').error.message, /unknown option "bogus"/);
  t.equal(by.get('full').error.code, 'ERR_CONTEXT_FULL', '64 frames of 64 tokens do not fit 512');
  const q1 = by.get('q1');
  t.ok(!q1.error && typeof q1.text === 'string' && q1.tokens.visual === 64 && q1.tokens.generated >= 1 && q1.timings.prefillMs > 0);
  const loc = by.get('loc');
  t.ok(!loc.error && 'start' in loc && 'end' in loc, 'localize lines carry start and end');

  // vidlm eval reads result lines as batch writes them; the answers of random weights are
  // gibberish, so the scored lines are batch's own lines with known answers put in (by hand:
  // "B" right, "C" wrong; [1, 3] against [0, 4] is IoU 0.5, and a failed job counts as IoU 0).
  const pred = join(dir, 'pred.jsonl');
  const known = [
    { ...q1, text: 'The answer is B.' },
    { ...q1, id: 'q2', text: 'The answer is C.' },
    { ...loc, start: 1, end: 3 },
    by.get('broken'), by.get('missing'),
  ];
  appendFileSync(pred, known.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const gt = join(dir, 'gt.json');
  appendFileSync(gt, JSON.stringify([{ id: 'q1', answer: 'B' }, { id: 'q2', answer: 'B' }, { id: 'missing', answer: 'A' }]));
  const qa = cliSync(['eval', 'qa', '--pred', pred, '--gt', gt, '--json']);
  t.equal(qa.status, 0, qa.stderr);
  const report = JSON.parse(qa.stdout);
  t.equal(report.questions, 3);
  t.same(report.missing, ['missing']);
  t.equal(report.correct, 1, 'q1 (B) right, q2 (C) wrong, missing wrong');
  const lgt = join(dir, 'loc-gt.json');
  appendFileSync(lgt, JSON.stringify([{ id: 'loc', start: 0, end: 4 }, { id: 'broken', start: 1, end: 2 }]));
  const le = cliSync(['eval', 'localize', '--pred', pred, '--gt', lgt, '--json']);
  t.equal(le.status, 0, le.stderr);
  const lr = JSON.parse(le.stdout);
  t.equal(lr.questions, 2);
  t.same(lr.missing, ['broken']);
  t.equal(lr.mIoU, 0.25, 'mean over the two videos of 0.5 and 0');
  // and the real results file, as batch wrote it, is read without error
  t.equal(cliSync(['eval', 'localize', '--pred', out, '--gt', lgt, '--json']).status, 0);
});

const count = 10;
const specs = Array.from({ length: count }, (_, i) => ({ id: `k${i}`, video: clip, task: i % 2 ? 'describe' : 'ask', question: i % 2 ? undefined : `question ${i}` }));

/** Most jobs in flight at once, from the events: a job is in flight from its first stage event to its result. */
function mostInFlight(events: Event[]): number {
  const live = new Set<unknown>();
  let most = 0;
  for (const e of events) {
    if (e.event === 'stage') live.add(e.id);
    if (e.event === 'result') live.delete(e.id);
    most = Math.max(most, live.size);
  }
  return most;
}

t.test('killed half-way (SIGKILL), interrupted (SIGINT), rerun: every id exactly once, whole lines only', async (t) => {
  const dir = t.testdir();
  const jobs = writeJobs(dir, 'jobs.jsonl', specs);
  const out = join(dir, 'results.jsonl');
  const args = ['batch', jobs, ...modelArgs, '--out', out, '--parallel', '2', '--json', ...quick];

  const first = new Cli(args);
  await first.waitFor((e) => e.event === 'result' && (e.done as number) >= 3);
  first.kill('SIGKILL');
  await first.exited;
  t.ok(mostInFlight(first.events) >= 2, '--parallel 2 had two jobs in flight');
  const afterKill = readResults(out); // throws on a torn line
  t.ok(afterKill.length >= 3 && afterKill.length < count, `${afterKill.length} lines after the kill`);
  // a line torn by a kill at the worst moment: the next run cuts it off
  appendFileSync(out, '{"id":"k9","text":"half a li');

  const second = new Cli(args);
  const start = await second.waitFor((e) => e.event === 'start');
  t.equal(start.skipped, afterKill.length, 'the rerun skips what the journal has');
  await second.waitFor((e) => e.event === 'result');
  second.kill('SIGINT');
  t.equal(await second.exited, 130, second.stderr);
  const afterInt = readResults(out);
  t.notOk(afterInt.some((l) => l.error), 'jobs cut off by SIGINT leave no error line');

  const third = cliSync(args);
  t.equal(third.status, 0, third.stderr);
  const lines = readResults(out);
  t.same([...idCounts(lines).keys()].sort(), specs.map((s) => s.id).sort());
  t.ok([...idCounts(lines).values()].every((n) => n === 1), 'every id exactly once');
  t.ok(lines.every((l) => !l.error && typeof l.text === 'string'));

  // all done: a fourth run loads no model and writes nothing
  const before = readFileSync(out, 'utf8');
  const fourth = cliSync(['batch', jobs, '--model', '/nonexistent.gguf', '--mmproj', '/nonexistent.gguf', '--out', out, '--json']);
  t.equal(fourth.status, 0, fourth.stderr);
  t.match(JSON.parse(fourth.stdout.trim().split('\n').at(-1)!), { event: 'end', total: count, skipped: count, done: 0 });
  t.equal(readFileSync(out, 'utf8'), before);
});

t.test('two runs on one results file at once: the second is refused while the first goes on', async (t) => {
  const dir = t.testdir();
  // the first run's job waits on a server that never answers, so the first run is surely still running
  const server = createHttpServer(() => {});
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const video = `http://127.0.0.1:${(server.address() as { port: number }).port}/never.mp4`;
  const jobs = writeJobs(dir, 'jobs.jsonl', [{ id: 'waits', video, task: 'ask', question: 'q' }]);
  const out = join(dir, 'results.jsonl');
  const args = ['batch', jobs, ...modelArgs, '--out', out, '--json'];
  const first = new Cli(args);
  await first.waitFor((e) => e.event === 'start');
  const rival = new Cli(args);
  t.equal(await rival.exited, 1);
  t.match(rival.stderr, new RegExp(`ERR_INVALID_ARG: .*results\\.jsonl is being written by another vidlm batch \\(pid ${first.proc.pid}\\)`));
  t.equal(first.proc.exitCode, null, 'the first run goes on');
  first.kill('SIGKILL');
  await first.exited;
});

t.test('usage errors exit 2; a missing jobs file is ERR_FILE_NOT_FOUND', async (t) => {
  t.equal(cliSync(['batch']).status, 2);
  t.equal(cliSync(['batch', 'j.jsonl', ...modelArgs]).status, 2, '--out required');
  t.equal(cliSync(['batch', 'j.jsonl', '--out', 'r.jsonl']).status, 2, 'model or queue required');
  t.equal(cliSync(['batch', '--status']).status, 2);
  t.equal(cliSync(['worker', '--queue', 'redis://127.0.0.1:1']).status, 2);
  const bad = cliSync(['batch', '/nonexistent/jobs.jsonl', ...modelArgs, '--out', '/tmp/x.jsonl']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /ERR_FILE_NOT_FOUND/);
  const url = cliSync(['batch', 'j.jsonl', '--queue', 'http://x', '--detach']);
  t.match(url.stderr, /ERR_INVALID_ARG: --queue must be a redis/);
  const parallel = cliSync(['batch', 'j.jsonl', ...modelArgs, '--out', 'r.jsonl', '--parallel', '0']);
  t.match(parallel.stderr, /ERR_INVALID_ARG: --parallel must be an integer >= 1/);
  // a worker that cannot start ends (no connection left open keeps it alive)
  const badModel = cliSync(['worker', '--queue', 'redis://127.0.0.1:1', '--model', models.notGguf, '--mmproj', models.mmproj], 60_000);
  t.equal(badModel.status, 1);
  t.match(badModel.stderr, /ERR_NOT_GGUF/);
  const noRedis = cliSync(['worker', '--queue', 'redis://127.0.0.1:1', ...modelArgs, '--connect-timeout', '1'], 60_000);
  t.equal(noRedis.status, 1);
  t.match(noRedis.stderr, /ERR_QUEUE_CONNECT/);
  const unreachable = cliSync(['batch', '--queue', 'redis://127.0.0.1:1', '--status', '--connect-timeout', '1']);
  t.equal(unreachable.status, 1);
  t.match(unreachable.stderr, /ERR_QUEUE_CONNECT: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
});

t.test('https videos (signed s3-style URLs) are downloaded by Node first: FFmpeg here has no TLS', async (t) => {
  const dir = t.testdir();
  const key = join(dir, 'key.pem'), cert = join(dir, 'cert.pem');
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  t.equal(ssl.status, 0, ssl.stderr);
  const body = readFileSync(clip);
  const seen: string[] = [];
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    seen.push(req.url!);
    if (req.url!.startsWith('/clip.mp4?')) { res.writeHead(200, { 'content-type': 'video/mp4' }); res.end(body); } else { res.writeHead(403); res.end('denied'); }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.teardown(() => server.close());
  const base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const jobs = writeJobs(dir, 'jobs.jsonl', [
    { id: 'signed', video: `${base}/clip.mp4?X-Amz-Signature=s3cr3t`, task: 'ask', question: 'what?' },
    { id: 'expired', video: `${base}/other.mp4?X-Amz-Signature=s3cr3t`, task: 'ask', question: 'what?' },
  ]);
  const out = join(dir, 'results.jsonl');
  // the spawned CLI runs its own event loop: the server here answers while it waits
  const c = new Cli(['batch', jobs, ...modelArgs, '--out', out, ...quick], { NODE_EXTRA_CA_CERTS: cert });
  t.equal(await c.exited, 0, c.stderr);
  const by = new ResultsById(readResults(out));
  t.ok(!by.get('signed').error && by.get('signed').tokens.visual === 64, JSON.stringify(by.get('signed')));
  t.equal(by.get('expired').error.code, 'ERR_VIDEO_OPEN');
  t.match(by.get('expired').error.message, /HTTP 403/);
  t.notMatch(by.get('expired').error.message, /s3cr3t/, 'the signature is not written to the results');
  t.same(seen.sort(), ['/clip.mp4?X-Amz-Signature=s3cr3t', '/other.mp4?X-Amz-Signature=s3cr3t']);
});
