import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateQa, extractChoice, mvbenchCorrect, readQaFiles, truthLetter } from '../../lib/eval/index.js';

t.test('Video-MME letter extraction', async (t) => {
  t.equal(extractChoice('The best answer is B.'), 'B');
  t.equal(extractChoice('(C) a red car'), 'C');
  t.equal(extractChoice('Best option: D'), 'D');
  t.equal(extractChoice('b'), '', 'lower case is not a letter answer');
  // "Answer:" is not among Video-MME's prefixes, so the A of "Answer" is read as the choice.
  t.equal(extractChoice('Answer: D'), 'A');
  t.equal(extractChoice('I think the man is cooking because he holds a pan in the kitchen'), '', 'long, no letter');
  t.equal(extractChoice('E'), '', 'E is not an option of a 4-option question');
  t.equal(extractChoice('E', 5), 'E');
});

t.test('MVBench check_ans', async (t) => {
  t.ok(mvbenchCorrect('(A) the man', 'A'));
  t.ok(mvbenchCorrect('A) the man', 'A'));
  t.ok(mvbenchCorrect('A. the man', 'A'));
  t.ok(mvbenchCorrect('a', 'A'));
  t.notOk(mvbenchCorrect('The answer is A', 'A'));
  t.notOk(mvbenchCorrect('B', 'A'));
  t.notOk(mvbenchCorrect('', 'A'), 'empty answers are wrong');
});

t.test('ground-truth letters', async (t) => {
  t.equal(truthLetter('B'), 'B');
  t.equal(truthLetter('(c) text'), 'C');
  t.equal(truthLetter('D. text'), 'D');
  t.throws(() => truthLetter('the red car'), { code: 'ERR_INVALID_ARG' });
});

// Hand-checked example:
//   id  category gt  prediction                 videomme        mvbench (first word vs "(x)")
//   q1  count    B   "The best answer is B."    B  right        "the"    wrong
//   q2  count    (C) "C) a red car"             C  right        "c)"     right
//   q3  count    A   "Answer: D"                A  right (!)    "answer:" wrong
//   q4  action   D   long text, no letter       '' wrong        "i"      wrong
//   q5  action   A   "B"                        B  wrong        "b"      wrong
//   q6  action   E   "E" (5 options)            E  right        "e"      right
//   q7  action   B   (no prediction)               wrong                 wrong
// videomme: 4/7 (count 3/3, action 1/4); mvbench: 2/7 (count 1/3, action 1/4)
t.test('hand-checked QA example through the file readers', async (t) => {
  const dir = t.testdir({});
  const gt = join(dir, 'gt.json'), pred = join(dir, 'pred.jsonl');
  writeFileSync(gt, JSON.stringify([
    { id: 'q1', answer: 'B', category: 'count' },
    { id: 'q2', answer: '(C) a red car', options: ['(A) x', '(B) y', '(C) a red car', '(D) z'], category: 'count' },
    { id: 'q3', answer: 'A', category: 'count' },
    { id: 'q4', answer: 'D', category: 'action' },
    { id: 'q5', answer: 'A', category: 'action' },
    { id: 'q6', answer: 'E', options: 5, category: 'action' },
    { id: 'q7', answer: 'B', category: 'action' },
  ]));
  writeFileSync(pred, [
    { id: 'q1', answer: 'The best answer is B.' },
    { id: 'q2', answer: 'C) a red car' },
    { id: 'q3', answer: 'Answer: D' },
    { id: 'q4', answer: 'I think the man is cooking because he holds a pan in the kitchen' },
    { id: 'q5', answer: 'B' },
    { id: 'q6', answer: 'E' },
    { id: 'x', answer: 'A' },
  ].map((o) => JSON.stringify(o)).join('\n'));
  const { truth, answers } = await readQaFiles(pred, gt);
  const v = evaluateQa(truth, answers);
  t.equal(v.correct, 4);
  t.equal(v.questions, 7);
  t.equal(v.accuracy, 4 / 7);
  t.same(v.categories, { count: { questions: 3, correct: 3, accuracy: 1 }, action: { questions: 4, correct: 1, accuracy: 0.25 } });
  t.same(v.missing, ['q7']);
  t.same(v.extra, ['x']);
  const m = evaluateQa(truth, answers, 'mvbench');
  t.equal(m.correct, 2);
  t.same(m.categories.count, { questions: 3, correct: 1, accuracy: 1 / 3 });
  t.same(m.categories.action, { questions: 4, correct: 1, accuracy: 0.25 });
  t.throws(() => evaluateQa(truth, answers, 'exact' as never), { code: 'ERR_INVALID_ARG' });
});

t.test('QA file errors', async (t) => {
  const dir = t.testdir({
    'gt-beyond.json': JSON.stringify([{ id: 'a', answer: 'E' }]),
    'gt-noletter.json': JSON.stringify([{ id: 'a', answer: 'the car' }]),
    'gt.json': JSON.stringify([{ id: 'a', answer: 'A' }]),
    'pred-noanswer.jsonl': '{"id":"a"}\n',
    'pred.jsonl': '{"id":"a","answer":"A"}\n',
  });
  await t.rejects(readQaFiles(join(dir, 'pred.jsonl'), join(dir, 'gt-beyond.json')), { code: 'ERR_INVALID_ARG' });
  await t.rejects(readQaFiles(join(dir, 'pred.jsonl'), join(dir, 'gt-noletter.json')), { code: 'ERR_INVALID_ARG' });
  await t.rejects(readQaFiles(join(dir, 'pred-noanswer.jsonl'), join(dir, 'gt.json')), { code: 'ERR_INVALID_ARG' });
});
