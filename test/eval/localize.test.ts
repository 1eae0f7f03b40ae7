import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateLocalization, readLocalizeFiles, temporalIoU, type Segment } from '../../lib/eval/index.js';

t.test('temporal IoU', async (t) => {
  // [10,20] vs [15,25]: inter 20-15 = 5, union 10 + 10 - 5 = 15 -> 1/3
  t.equal(temporalIoU([10, 20], [15, 25]), 1 / 3);
  // containment [0,10] vs [2,4]: inter 2, union 10 + 2 - 2 = 10 -> 0.2
  t.equal(temporalIoU([0, 10], [2, 4]), 0.2);
  t.equal(temporalIoU([0, 5], [5, 10]), 0, 'touching');
  t.equal(temporalIoU([30, 40], [50, 60]), 0, 'disjoint');
  t.equal(temporalIoU([5, 5], [5, 5]), 0, 'empty union');
  t.equal(temporalIoU([0, 2], [0, 1]), 0.5);
});

// Hand-checked example (video-balanced averaging, as ActivityNet-RTL):
//   q1 video A gt [10,20] pred [15,25]      IoU 1/3
//   q2 video A gt [0,10]  pred [0,10]       IoU 1
//   q6 video A gt [2,4]   no prediction     IoU 0
//   q3 video B gt "<30.0> <40.0>" = [30,40], pred [50,60]   IoU 0
//   q4 video C gt [5,15]  pred "<t10> <t20>" at duration 99 = [10,20]: inter 5, union 15 -> 1/3
//   q5 video C gt [0,60]  pred "I don't know" -> whole video [0,60]  IoU 1
// mIoU: A (1/3+1+0)/3 = 4/9, B 0, C (1/3+1)/2 = 2/3 -> (4/9 + 0 + 2/3)/3 = 10/27
//   (question-balanced would be (1/3+1+0+0+1/3+1)/6 = 4/9: the two differ)
// P@0.3: A (1+1+0)/3 = 2/3, B 0, C 1 -> 5/9
// P@0.5: A (0+1+0)/3 = 1/3, B 0, C (0+1)/2 = 1/2 -> (1/3 + 1/2)/3 = 5/18; P@0.7 the same.
t.test('hand-checked localization example through the file readers', async (t) => {
  const dir = t.testdir({});
  const gt = join(dir, 'gt.json'), pred = join(dir, 'pred.jsonl');
  writeFileSync(gt, JSON.stringify([
    { id: 'q1', video: 'A', start: 10, end: 20 },
    { id: 'q2', video: 'A', start: 0, end: 10 },
    { id: 'q6', video: 'A', start: 2, end: 4 },
    { id: 'q3', video: 'B', duration: 90, answer: 'It happens between <30.0> and <40.0>.' },
    { id: 'q4', video: 'C', duration: 99, start: 5, end: 15 },
    { id: 'q5', video: 'C', duration: 60, start: 0, end: 60 },
  ]));
  writeFileSync(pred, [
    { id: 'q1', start: 15, end: 25 },
    { id: 'q2', answer: 'from 0s to 10s' },
    { id: 'q3', start: 60, end: 50 },
    { id: 'q4', answer: '<t10> <t20> the man jumps' },
    { id: 'q5', answer: "I don't know" },
    { id: 'zzz', start: 1, end: 2 },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const { truth, preds } = await readLocalizeFiles(pred, gt);
  const r = evaluateLocalization(truth, preds);
  t.equal(r.questions, 6);
  t.equal(r.videos, 3);
  t.ok(Math.abs(r.mIoU - 10 / 27) < 1e-12, `mIoU ${r.mIoU}`);
  t.ok(Math.abs(r.precision['0.3']! - 5 / 9) < 1e-12);
  t.ok(Math.abs(r.precision['0.5']! - 5 / 18) < 1e-12);
  t.ok(Math.abs(r.precision['0.7']! - 5 / 18) < 1e-12);
  t.same(r.missing, ['q6']);
  t.same(r.extra, ['zzz']);
  const byId = new Map(r.items.map((it) => [it.id, it]));
  t.same(byId.get('q3')!.gt, [30, 40]);
  t.same(byId.get('q3')!.pred, [50, 60]);
  t.same(byId.get('q4')!.pred, [10, 20]);
  t.same(byId.get('q5')!.pred, [0, 60]);
});

t.test('IoU exactly at a threshold counts as a hit', async (t) => {
  const preds = new Map<string, Segment | null>([['a', [0, 1]]]);
  const r = evaluateLocalization([{ id: 'a', video: 'a', segment: [0, 2] }], preds);
  t.equal(r.mIoU, 0.5);
  t.equal(r.precision['0.5'], 1);
  t.equal(r.precision['0.7'], 0);
});

t.test('file errors', async (t) => {
  const dir = t.testdir({
    'gt-bad.json': JSON.stringify([{ id: 'a', answer: 'only at 5s' }]),
    'gt.json': JSON.stringify({ a: { start: 1, end: 2 } }),
    'gt-dup.json': JSON.stringify([{ id: 'a', start: 1, end: 2 }, { id: 'a', start: 1, end: 2 }]),
    'pred.jsonl': '{"id":"a","start":1,"end":2}\n',
    'pred-bad.jsonl': '{"id":"a","start":1,"end":2}\nnot json\n',
    'pred-noans.jsonl': '{"id":"a","answer":"maybe 3s"}\n',
  });
  await t.rejects(readLocalizeFiles(join(dir, 'pred.jsonl'), join(dir, 'gt-bad.json')), { code: 'ERR_INVALID_ARG' }, 'reference without two times');
  await t.rejects(readLocalizeFiles(join(dir, 'pred.jsonl'), join(dir, 'gt-dup.json')), { code: 'ERR_INVALID_ARG' });
  await t.rejects(readLocalizeFiles(join(dir, 'pred-bad.jsonl'), join(dir, 'gt.json')), { code: 'ERR_INVALID_ARG', message: /pred-bad\.jsonl:2/ });
  await t.rejects(readLocalizeFiles(join(dir, 'nope.jsonl'), join(dir, 'gt.json')), { code: 'ERR_FILE_NOT_FOUND' });
  // An object keyed by id works; a one-time answer without a duration is unscored (IoU 0).
  const { truth, preds } = await readLocalizeFiles(join(dir, 'pred-noans.jsonl'), join(dir, 'gt.json'));
  const r = evaluateLocalization(truth, preds);
  t.same(r.missing, ['a']);
  t.equal(r.mIoU, 0);
});
