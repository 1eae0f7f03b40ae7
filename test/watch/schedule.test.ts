// The window schedule and the event debounce, against simple independent restatements.
import fc from 'fast-check';
import t from 'tap';
import { Debounce } from '../../lib/watch/debounce.js';
import { Schedule } from '../../lib/watch/schedule.js';

t.test('windows end at k × every and cover [end − window, end), clamped at 0', async (t) => {
  const s = new Schedule(10, 30);
  t.equal(s.due(9.9), null, 'not due before a frame at its end');
  t.same(s.due(10), { end: 10, skipped: 0 });
  t.equal(s.start(10), 0);
  t.same(s.due(20.5), { end: 20, skipped: 0 });
  t.same(s.due(30), { end: 30, skipped: 0 });
  t.equal(s.start(30), 0);
  t.equal(s.start(40), 10);
});

t.test('falling behind: only the latest due window is answered, the others are counted as skipped', async (t) => {
  const s = new Schedule(2, 6);
  t.same(s.due(2), { end: 2, skipped: 0 });
  // answering took long: frames up to 9.5 arrived meanwhile; windows ending at 4, 6 and 8 are due
  t.same(s.due(9.5), { end: 8, skipped: 2 });
  t.equal(s.nextEnd, 10);
});

t.test('property: answered + skipped windows = every boundary passed, answered ends strictly increase', async (t) => {
  fc.assert(fc.property(
    fc.double({ min: 0.1, max: 20, noNaN: true }),
    fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 60 }),
    (every, steps) => {
      const s = new Schedule(every, every * 3);
      let latest = 0, skipped = 0, answered = 0, lastEnd = -Infinity;
      for (const d of steps) {
        latest += d;
        const due = s.due(latest);
        if (!due) continue;
        if (!(due.end > lastEnd) || due.end > latest + 1e-6) return false;
        lastEnd = due.end;
        answered++;
        skipped += due.skipped;
      }
      // independent count: boundaries k·every (k ≥ 1) at or before the latest frame
      const passed = Math.floor((latest + 1e-6) / every);
      return answered + skipped === passed;
    }), { numRuns: 500 });
});

t.test('debounce: one event per run of yes windows; cooldown no-windows re-arm it', async (t) => {
  // independent rule: an event starts at i when answers[i] is yes and the previous `cooldown` answers
  // (or the start of the stream) are all no, where a yes that is not itself preceded by enough
  // no's continues the event
  const simulate = (answers: boolean[], cooldown: number): number[] => {
    const starts: number[] = [];
    let active = false, lastYes = -Infinity;
    answers.forEach((yes, i) => {
      if (!yes) return;
      const noRun = i - lastYes - 1;
      if (!active || noRun >= cooldown) { starts.push(i); active = true; }
      lastYes = i;
    });
    return starts;
  };
  const run = (answers: boolean[], cooldown: number): number[] => {
    const d = new Debounce(cooldown);
    return answers.flatMap((yes, i) => (d.push(yes) ? [i] : []));
  };
  const y = true, n = false;
  t.same(run([n, y, y, y, n, y], 1), [1, 5]);
  t.same(run([n, y, n, y, n, n, y], 2), [1, 6], 'a single no between yes windows does not split the event with cooldown 2');
  t.same(run([y, y], 1), [0], 'armed from the start');
  fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 80 }), fc.integer({ min: 1, max: 5 }),
    (answers, cooldown) => JSON.stringify(run(answers, cooldown)) === JSON.stringify(simulate(answers, cooldown))), { numRuns: 500 });
});
