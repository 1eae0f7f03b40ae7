import t from 'tap';
import { join } from 'node:path';
import { run } from '../../lib/commands/eval.js';

// Runs the command with stdout/stderr captured.
async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const w1 = process.stdout.write.bind(process.stdout), w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    const code = await run(args);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

t.test('vidlm eval localize and qa', async (t) => {
  const dir = t.testdir({
    // [0,10] vs [5,15]: inter 5, union 15 -> IoU 1/3 (33.33%), a hit at 0.3 only.
    'loc-gt.json': JSON.stringify([{ id: 'a', start: 0, end: 10 }]),
    'loc-pred.jsonl': `${JSON.stringify({ id: 'a', answer: 'From 5s to 15s.' })}\n`,
    'qa-gt.json': JSON.stringify([{ id: 'a', answer: 'B' }, { id: 'b', answer: 'C' }]),
    'qa-pred.jsonl': '{"id":"a","answer":"B"}\n{"id":"b","answer":"D"}\n',
  });
  const loc = await capture(['localize', '--pred', join(dir, 'loc-pred.jsonl'), '--gt', join(dir, 'loc-gt.json')]);
  t.equal(loc.code, 0);
  t.match(loc.out, /mIoU\s+33\.33/);
  t.match(loc.out, /P@0\.3\s+100\.00/);
  t.match(loc.out, /P@0\.5\s+0\.00/);
  const locJson = await capture(['localize', '--pred', join(dir, 'loc-pred.jsonl'), '--gt', join(dir, 'loc-gt.json'), '--json']);
  const report = JSON.parse(locJson.out);
  t.equal(report.task, 'localize');
  t.ok(Math.abs(report.mIoU - 1 / 3) < 1e-12);
  t.same(report.precision, { '0.3': 1, '0.5': 0, '0.7': 0 });

  const qa = await capture(['qa', '--pred', join(dir, 'qa-pred.jsonl'), '--gt', join(dir, 'qa-gt.json'), '--json']);
  t.equal(qa.code, 0);
  const q = JSON.parse(qa.out);
  t.equal(q.accuracy, 0.5);
  t.equal(q.match, 'videomme');
  const qaText = await capture(['qa', '--pred', join(dir, 'qa-pred.jsonl'), '--gt', join(dir, 'qa-gt.json'), '--match', 'mvbench']);
  t.match(qaText.out, /1\/2 correct, accuracy 50\.00/);
});

t.test('usage errors', async (t) => {
  t.equal((await capture([])).code, 2);
  t.equal((await capture(['rank', '--pred', 'p', '--gt', 'g'])).code, 2);
  t.equal((await capture(['qa', '--pred', 'p'])).code, 2);
  t.equal((await capture(['qa', '--pred', 'p', '--gt', 'g', '--bogus'])).code, 2);
  t.equal((await capture(['qa', '--pred', 'p', '--gt', 'g', '--match', 'x'])).code, 2);
  t.equal((await capture(['localize', '--pred', 'p', '--gt', 'g', '--mode', 'x'])).code, 2);
  const help = await capture(['--help']);
  t.equal(help.code, 0);
  t.match(help.out, /vidlm eval localize/);
  await t.rejects(capture(['qa', '--pred', '/nonexistent/p.jsonl', '--gt', '/nonexistent/g.json']), { code: 'ERR_FILE_NOT_FOUND' });
});
