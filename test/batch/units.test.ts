/** The parts of batch that need no model: job lines, the results journal, retry rules, job ids. */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { VidlmError } from '../../lib/errors.js';
import { checkJob, parseJobs, resolveVideo } from '../../lib/batch/jobs.js';
import { Journal } from '../../lib/batch/journal.js';
import { failedLine, isRetryable, jobFailure } from '../../lib/batch/queue/failures.js';
import { idOfJobId, jobIdOf } from '../../lib/batch/queue/ids.js';
import { errorLine } from '../../lib/batch/result.js';

t.test('job lines: each checked on its own, defaults under the line\'s options', async (t) => {
  const text = [
    JSON.stringify({ id: 'a', video: 'a.mp4', task: 'ask', question: 'q', options: { frames: 4 } }),
    '',
    '{oops',
    JSON.stringify({ id: 7, video: 'b.mp4', task: 'describe' }),
    JSON.stringify({ id: 'c', video: 'c.mp4', task: 'caption', question: 'q' }),
    JSON.stringify({ id: 'a', video: 'd.mp4', task: 'ask', question: 'q' }),
    JSON.stringify({ video: 'e.mp4', task: 'ask', question: 'q' }),
    JSON.stringify({ id: 'f', video: 'f.mp4', task: 'localize' }),
    JSON.stringify({ id: 'g', video: 'g.mp4', task: 'ask', question: 'q', extra: 1 }),
    '[1,2]',
  ].join('\n');
  const e = parseJobs(text, { frames: 2, maxTokens: 9 });
  t.same(e.map((x) => x.key), ['id:a', 'line:3', 'id:7', 'id:c', 'line:6', 'line:7', 'id:f', 'id:g', 'line:10']);
  t.same(e[0]!.spec, { id: 'a', video: 'a.mp4', task: 'ask', question: 'q', options: { frames: 4, maxTokens: 9 } });
  t.same(e[2]!.spec, { id: '7', video: 'b.mp4', task: 'describe', options: { frames: 2, maxTokens: 9 } });
  for (const i of [1, 3, 4, 5, 6, 7, 8]) t.equal(e[i]!.error?.code, 'ERR_INVALID_ARG', `line ${e[i]!.line}`);
  t.match(e[1]!.error!.message, /^line 3: not JSON/);
  t.match(e[3]!.error!.message, /"task" must be one of ask, describe, localize/);
  t.match(e[4]!.error!.message, /duplicate id "a"/);
  t.match(e[6]!.error!.message, /a localize job needs a "question"/);
  t.match(e[7]!.error!.message, /unknown field "extra"/);
  t.throws(() => checkJob({ id: 'x', video: 'v', task: 'ask', question: 'q', options: { model: {} } }), { code: 'ERR_INVALID_ARG', message: /unknown option "model"/ });
  t.throws(() => checkJob({ id: 'x', video: '', task: 'ask', question: 'q' }), { code: 'ERR_INVALID_ARG' });
  // relative paths from the jobs file's folder; absolute paths and URLs as they are
  const rel = parseJobs(JSON.stringify({ id: 'r', video: 'clips/a.mp4', task: 'describe' }), {}, '/data/lib');
  t.equal(rel[0]!.spec!.video, '/data/lib/clips/a.mp4');
  t.equal(resolveVideo('/mnt/v.mp4', '/data'), '/mnt/v.mp4');
  t.equal(resolveVideo('https://h/v.mp4?sig=1', '/data'), 'https://h/v.mp4?sig=1');
  t.equal(resolveVideo('http://h/v.mp4', '/data'), 'http://h/v.mp4');
  t.equal(resolveVideo('v.mp4', undefined), 'v.mp4');
});

t.test('journal: whole lines, each key once, a torn last line cut off, keys read back', async (t) => {
  const dir = t.testdir({ 'r.jsonl': '{"id":"old","text":"x"}\n{"id":null,"line":4,"error":{"code":"ERR_INVALID_ARG","message":"m"}}\n{"id":"torn","te' });
  const path = join(dir, 'r.jsonl');
  const j = await Journal.open(path);
  t.same([...j.done].sort(), ['id:old', 'line:4']);
  t.equal(readFileSync(path, 'utf8').split('\n').at(-1), '', 'the torn line is gone');
  // many callers at once, one of them twice: every line whole, in the order asked
  const big = 'x'.repeat(200_000);
  await Promise.all([
    ...Array.from({ length: 50 }, (_, i) => j.append({ id: `n${i}`, text: i === 7 ? big : `t${i}` })),
    j.append({ id: 'n3', text: 'again' }),
    j.append({ id: 'old', text: 'again' }),
  ]);
  await j.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  t.equal(lines.pop(), '');
  const parsed = lines.map((l) => JSON.parse(l));
  t.same(parsed.slice(2).map((l) => l.id), Array.from({ length: 50 }, (_, i) => `n${i}`));
  t.equal(parsed[9].text.length, big.length);
  t.notOk(parsed.some((l) => l.text === 'again'), 'a key already there is not written again');
  await t.rejects(j.append({ id: 'late' }), { code: 'ERR_DISPOSED' });
  const again = await Journal.open(path);
  t.equal(again.done.size, 52);
  await again.close();
  // one writer at a time; a lock left by a killed run is taken over
  const held = await Journal.open(path);
  await t.rejects(Journal.open(path), { code: 'ERR_INVALID_ARG', message: /being written by another vidlm batch \(pid \d+\)/ });
  await held.close();
  writeFileSync(`${path}.lock`, '999999999');
  const takeover = await Journal.open(path);
  t.equal(readFileSync(`${path}.lock`, 'utf8'), String(process.pid));
  await takeover.close();
  t.throws(() => readFileSync(`${path}.lock`), { code: 'ENOENT' }, 'closing removes the lock');
  writeFileSync(join(dir, 'd'), '');
  await t.rejects(Journal.open(join(dir, 'd', 'x.jsonl')), { code: 'ERR_INVALID_ARG' });
});

t.test('queue failures: coded input errors are final, the rest retried; reasons turn back into error lines', async (t) => {
  for (const code of ['ERR_VIDEO_OPEN', 'ERR_VIDEO_DECODE', 'ERR_VIDEO_NO_STREAM', 'ERR_VIDEO_EMPTY', 'ERR_VIDEO_TOO_LARGE', 'ERR_CONTEXT_FULL', 'ERR_INVALID_ARG', 'ERR_GRAMMAR'] as const) {
    const f = jobFailure(new VidlmError(code, 'bad input'));
    t.ok(f instanceof UnrecoverableError, `${code} is not retried`);
    t.same(failedLine('x', f.message), { id: 'x', error: { code, message: 'bad input' } });
  }
  for (const e of [new VidlmError('ERR_VIDEO_TIMEOUT', 'slow url'), new VidlmError('ERR_DECODE', 'oom'), new Error('something else')]) {
    const f = jobFailure(e);
    t.notOk(f instanceof UnrecoverableError, `${f.message} is retried`);
  }
  t.equal(isRetryable('ERR_JOB'), true);
  t.same(failedLine('y', 'job stalled more than allowable limit'), { id: 'y', error: { code: 'ERR_JOB', message: 'job stalled more than allowable limit' } });
  t.same(errorLine(null, new VidlmError('ERR_INVALID_ARG', 'm'), 3), { id: null, line: 3, error: { code: 'ERR_INVALID_ARG', message: 'm' } });
});

t.test('job ids: any line id maps to a BullMQ id and back, one to one', async (t) => {
  for (const id of ['0', '42', 'cam:1:2', 'a b/ü', 'id=x', '%41']) {
    const j = jobIdOf(id);
    t.notOk(j.includes(':'), `${id}: no ':'`);
    t.not(`${parseInt(j, 10)}`, j, `${id}: not an integer`);
    t.equal(idOfJobId(j), id);
  }
  t.not(jobIdOf('%41'), jobIdOf('A'));
});
