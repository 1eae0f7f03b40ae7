/**
 * `vidlm batch --queue` and `vidlm worker` against a real redis-server: many workers, one killed
 * mid-job; the same file enqueued again and at once; bad lines; a graceful stop; Redis stopped
 * for 5 s and restarted. Each test reads the results file and the queue's own job records.
 */
import t from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { jobIdOf } from '../../lib/batch/queue/ids.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { Cli, RedisServer, cliSync, idCounts, quick, readResults, sleep, writeJobs } from './helpers.js';

const models = await tinyModels();
const modelArgs = ['--model', models.model, '--mmproj', models.mmproj, '--threads', '1'];
const clip = await media.h264();
const redis = await RedisServer.start();
t.teardown(() => redis.dispose());

async function withQueue<T>(name: string, f: (q: Queue) => Promise<T>): Promise<T> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const q = new Queue(name, { connection });
  try { return await f(q); } finally { await q.close(); connection.disconnect(); }
}

const worker = (name: string, extra: string[] = []) =>
  new Cli(['worker', '--queue', redis.url, '--name', name, ...modelArgs, '--json', '--lock-ms', '4000', '--stalled-ms', '1000', ...extra]);

t.test('50 jobs, 3 workers, one SIGKILLed mid-job: every result once; bad lines get coded errors and are not retried', async (t) => {
  const dir = t.testdir();
  const good = Array.from({ length: 50 }, (_, i) => ({
    // a number id and one with ':' (BullMQ refuses both as job ids: mapped)
    id: i === 0 ? 0 : i === 1 ? 'cam:1' : i === 2 ? 'slow' : `j${String(i).padStart(2, '0')}`,
    video: clip,
    task: i % 3 === 1 ? 'describe' : 'ask',
    question: i % 3 === 1 ? undefined : `what happens? (${i})`,
    // the first job is long, so that the worker that takes it is killed while it runs
    // (a grammar with no end before 10000 letters makes it run all its tokens: random weights may end at once)
    ...(i === 2 ? { options: { frames: 8, maxTokens: 1500, contextSize: 2048, grammar: `root ::= ${'w '.repeat(25)}\nw ::= [a-z]{400}` } } : {}),
  }));
  good.unshift(good.splice(2, 1)[0]!);
  const jobs = writeJobs(dir, 'jobs.jsonl', [
    ...good,
    '{"id": "broken-json", ',
    { id: 'missing', video: join(dir, 'no-such-video.mp4'), task: 'ask', question: 'what?' },
    { id: 'broken', video: await media.notMedia(), task: 'ask', question: 'what?' },
    { id: 'unknown-task', video: clip, task: 'summarize' },
  ]);
  const out = join(dir, 'results.jsonl');
  const enqueueArgs = ['batch', jobs, '--queue', redis.url, '--name', 'many', '--detach', '--json', ...quick];

  // two producers enqueue the same file at the same moment, then a third after them
  const [a, b] = [new Cli(enqueueArgs), new Cli(enqueueArgs)];
  t.same(await Promise.all([a.exited, b.exited]), [0, 0], a.stderr + b.stderr);
  const again = cliSync(enqueueArgs);
  t.equal(again.status, 0, again.stderr);
  t.match(JSON.parse(again.stdout.split('\n')[0]!), { event: 'enqueued', added: 0, existing: 52, invalid: 2 });
  const st = cliSync(['batch', '--queue', redis.url, '--name', 'many', '--status', '--json']);
  t.match(JSON.parse(st.stdout), { waiting: 52, active: 0, done: 0, failed: 0 }, 'no duplicates in the queue');

  const collector = new Cli(['batch', jobs, '--queue', redis.url, '--name', 'many', '--out', out, '--json', '--sweep-ms', '500', ...quick]);
  const victim = worker('many');
  const held = await victim.waitFor((e) => e.event === 'active');
  t.equal(held.id, 'slow', 'the first worker took the long job');
  const others = [worker('many'), worker('many')];
  await sleep(300);
  victim.kill('SIGKILL');
  t.equal(await victim.exited, -1);
  t.notOk(victim.events.some((e) => e.event === 'completed'), 'killed before it finished the job');

  t.equal(await collector.exited, 0, collector.stderr);
  const stages = new Set(collector.events.filter((e) => e.event === 'stage').map((e) => e.stage));
  t.same([...stages].sort(), ['decode', 'encode', 'generate', 'prefill'], 'workers report each stage through the job progress');
  const lines = readResults(out);
  const counts = idCounts(lines);
  t.equal(lines.length, 54, 'one line per line of the jobs file');
  t.ok([...counts.values()].every((n) => n === 1), 'every id exactly once');
  const byId = new Map(lines.map((l) => [l.id ?? `line:${l.line}`, l]));
  for (const g of good) {
    const r = byId.get(String(g.id));
    t.ok(r && !r.error && typeof r.text === 'string' && r.tokens.generated >= 1, `job ${g.id} has a result: ${JSON.stringify(r)}`);
  }
  t.equal(byId.get('line:51')?.error?.code, 'ERR_INVALID_ARG', 'invalid JSON');
  t.equal(byId.get('unknown-task')?.error?.code, 'ERR_INVALID_ARG', 'unknown task');
  t.equal(byId.get('missing')?.error?.code, 'ERR_VIDEO_OPEN', 'missing video');
  t.match(byId.get('broken')?.error?.code, /^ERR_VIDEO_(OPEN|DECODE)$/, 'broken video');

  await withQueue('many', async (q) => {
    const slow = await q.getJob(jobIdOf('slow'));
    t.ok(slow!.stalledCounter >= 1, 'the killed worker\'s job was taken back by stalled-job detection');
    t.equal(await slow!.getState(), 'completed');
    for (const id of ['missing', 'broken']) {
      const j = await q.getJob(jobIdOf(id));
      t.equal(await j!.getState(), 'failed');
      t.equal(j!.attemptsMade, 1, `${id}: a coded input error is not retried (attempts: 3)`);
    }
  });
  const status = cliSync(['batch', '--queue', redis.url, '--name', 'many', '--status']);
  t.match(status.stdout, /waiting 0, delayed 0, active 0, done 50, failed 2, workers 2/);

  // a rerun finds everything in the results file: nothing enqueued, nothing written
  const rerun = cliSync(['batch', jobs, '--queue', redis.url, '--name', 'many', '--out', out, '--json']);
  t.equal(rerun.status, 0, rerun.stderr);
  t.equal(readResults(out).length, 54);

  for (const w of others) w.kill('SIGTERM');
  t.same(await Promise.all(others.map((w) => w.exited)), [0, 0]);
});

t.test('SIGTERM: the running job finishes, or goes back to the queue after --stop-timeout', async (t) => {
  const dir = t.testdir();
  // every answer runs its 1500 tokens (a grammar with no end before 10000 letters): random weights
  // otherwise end at once now and then, and a job done before the signal cannot be released
  const long = { video: clip, task: 'ask', question: 'what?', options: { frames: 8, maxTokens: 1500, contextSize: 2048, grammar: `root ::= ${'w '.repeat(25)}\nw ::= [a-z]{400}` } };
  const jobs = writeJobs(dir, 'jobs.jsonl', [{ id: 'first', ...long }, { id: 'second', ...long }]);
  t.equal(cliSync(['batch', jobs, '--queue', redis.url, '--name', 'stop', '--detach']).status, 0);

  const quitter = worker('stop', ['--stop-timeout', '0.2']);
  await quitter.waitFor((e) => e.event === 'active' && e.id === 'first');
  quitter.kill('SIGTERM');
  t.equal(await quitter.exited, 0, quitter.stderr);
  t.ok(quitter.events.some((e) => e.event === 'released' && e.id === 'first'), 'released after the timeout');
  await withQueue('stop', async (q) => {
    const j = await q.getJob(jobIdOf('first'));
    t.equal(await j!.getState(), 'waiting', 'back in the queue');
    t.equal(j!.attemptsMade, 0, 'without using an attempt');
  });

  const finisher = worker('stop');
  const active = await finisher.waitFor((e) => e.event === 'active');
  finisher.kill('SIGTERM');
  t.equal(await finisher.exited, 0, finisher.stderr);
  const order = finisher.events.map((e) => e.event);
  t.ok(order.includes('stopping'), 'the worker said it was stopping');
  t.ok(order.includes('stopping') && order.indexOf('completed') > order.indexOf('stopping'), 'the job finished after the signal');
  t.ok(finisher.events.some((e) => e.event === 'completed' && e.id === active.id));
  await withQueue('stop', async (q) => {
    t.equal(await q.getJobState(jobIdOf(active.id as string)), 'completed');
    t.equal(await q.getJobState(jobIdOf(active.id === 'first' ? 'second' : 'first')), 'waiting', 'no new job taken while stopping');
  });
});

t.test('Redis stopped for 5 s and restarted: workers and the collector reconnect, every job completes once', async (t) => {
  const dir = t.testdir();
  const jobs = writeJobs(dir, 'jobs.jsonl', Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, video: clip, task: 'ask', question: `what? ${i}` })));
  const out = join(dir, 'results.jsonl');
  const collector = new Cli(['batch', jobs, '--queue', redis.url, '--name', 'restart', '--out', out, '--json', '--sweep-ms', '500', ...quick]);
  await collector.waitFor((e) => e.event === 'start');
  const w = worker('restart', ['--concurrency', '2']);
  await collector.waitFor((e) => e.event === 'result' && (e.done as number) >= 3);
  await redis.stop({ save: true });
  await sleep(5000);
  t.ok(collector.proc.exitCode === null && w.proc.exitCode === null, 'both live through the outage');
  await redis.start();
  t.equal(await collector.exited, 0, collector.stderr);
  const lines = readResults(out);
  t.equal(lines.length, 12);
  t.ok([...idCounts(lines).values()].every((n) => n === 1), 'every id exactly once');
  t.ok(lines.every((l) => !l.error), JSON.stringify(lines.filter((l) => l.error)));
  w.kill('SIGTERM');
  t.equal(await w.exited, 0, w.stderr);
});
