import t from 'tap';
import { parseStartEnd, parseTimes, type ParseTimesOptions } from '../../lib/time/index.js';

// [answer, options, expected [start, end, text?][]], expected values worked out by hand.
type Want = [number, number, string?];
const cases: Array<[string, ParseTimesOptions, Want[]]> = [
  // seconds
  ['The event happens at 12.5s.', {}, [[12.5, 12.5, '12.5s']]],
  ['It starts at 12.5 seconds', {}, [[12.5, 12.5, '12.5 seconds']]],
  ['around 3 sec', {}, [[3, 3, '3 sec']]],
  ['about 45 secs in', {}, [[45, 45]]],
  ['after 1 second', {}, [[1, 1]]],
  ['at .5s exactly', {}, [[0.5, 0.5, '.5s']]],
  ['It Ends At 20 Seconds.', {}, [[20, 20, '20 Seconds']]],
  // minutes and hours: 2 min 30 s = 150; 1h 2m 3s = 3600 + 120 + 3 = 3723
  ['2 minutes 30 seconds in', {}, [[150, 150, '2 minutes 30 seconds']]],
  ['at 1h 2m 3s', {}, [[3723, 3723, '1h 2m 3s']]],
  ['1m30s', {}, [[90, 90]]],
  ['1.5 minutes', {}, [[90, 90]]],
  ['2 hours', {}, [[7200, 7200]]],
  // llama.cpp's own video timestamps "[%dm%.2fs]"
  ['[0m5.00s]', {}, [[5, 5, '0m5.00s']]],
  ['[1m2.50s]', {}, [[62.5, 62.5]]],
  // clock times: 01:02 = 62; 1:02:03.5 = 3723.5; 12:30.5 = 750.5
  ['at 01:02', {}, [[62, 62, '01:02']]],
  ['at 1:02:03.5', {}, [[3723.5, 3723.5, '1:02:03.5']]],
  ['at 12:30.5', {}, [[750.5, 750.5]]],
  ['00:00:07', {}, [[7, 7]]],
  ['1:02:03', {}, [[3723, 3723]]],
  // ranges
  ['from 12.5s to 20s', {}, [[12.5, 20, 'from 12.5s to 20s']]],
  ['12.5s - 20s', {}, [[12.5, 20, '12.5s - 20s']]],
  ['12.5–20.0 seconds', {}, [[12.5, 20, '12.5–20.0 seconds']]],
  ['12.5sec—14sec', {}, [[12.5, 14]]],
  ['between 10 and 15 seconds', {}, [[10, 15, 'between 10 and 15 seconds']]],
  ['between 0:10 and 0:15', {}, [[10, 15]]],
  ['from 1:02 to 1:30', {}, [[62, 90, 'from 1:02 to 1:30']]],
  ['1:02 - 1:05', {}, [[62, 65]]],
  ['From 00:05 To 00:09', {}, [[5, 9, 'From 00:05 To 00:09']]],
  ['from 12 to 35', {}, [[12, 35, 'from 12 to 35']]],
  ['12-35s', {}, [[12, 35, '12-35s']]],
  ['from 1 to 2 minutes', {}, [[60, 120]]], // the bare 1 takes the unit of the other end
  ['between 1 minute and 2 minutes', {}, [[60, 120]]],
  ['from 5s until 9s', {}, [[5, 9]]],
  ['from 20s to 10s', {}, [[10, 20]]], // reversed: [min, max] as LITA does
  ['[12.5, 20.0]', {}, [[12.5, 20, '[12.5, 20.0]']]],
  ['(3.0, 7.5)', {}, [[3, 7.5, '(3.0, 7.5)']]],
  // several times
  ['It happens at 5.5s, then again at 10s.', {}, [[5.5, 5.5], [10, 10]]],
  ['12.5 s and then 20 s', {}, [[12.5, 12.5], [20, 20]]],
  ['start 3.5 seconds, end 8 seconds', {}, [[3.5, 3.5], [8, 8]]],
  // LITA time tokens: duration 99 makes index = seconds; duration 60: round(12*60/99, 2) = 7.27,
  // round(35*60/99, 2) = 21.21
  ['<t12> <t35>', { duration: 99 }, [[12, 35, '<t12> <t35>']]],
  ['<t12> <t35>', { duration: 60 }, [[7.27, 21.21]]],
  ['<t0> <t99>', { duration: 60, mode: 'lita' }, [[0, 60]]],
  ['<t35> <t12>', { duration: 99 }, [[12, 35]]],
  ['from <t10> to <t20>', { duration: 99 }, [[10, 20, 'from <t10> to <t20>']]],
  ['<t5> <t20> a man enters. <t30> <t60> he sits down.', { duration: 99 }, [[5, 20], [30, 60]]],
  // paper spelling <1>..<T> in lita mode: <12> is index 11 -> 11 s of 99
  ['<12> <35>', { duration: 99, mode: 'lita' }, [[11, 34]]],
  // outside lita mode <N> is LITA's RTL "<seconds>" form
  ['<12> <35> the man jumps', {}, [[12, 35]]],
  ['<12.5> <20.0>', {}, [[12.5, 20]]],
  ['<12.5> <20.0>', { duration: 99, mode: 'lita' }, [[12.5, 20]]],
  // clamping to the duration
  ['at 75s', { duration: 60 }, [[60, 60]]],
  ['from 50s to 80s', { duration: 60 }, [[50, 60]]],
  // not times
  ['The 1990s were great', {}, []],
  ['There are 3 people and 2 dogs', {}, []],
  ['3-5 people', {}, []],
  ['The video is 16:9', {}, []],
  ['5 months later', {}, []],
  ['it took 500ms', {}, []],
  ['model v2.5s', {}, []],
  ['<t12> needs a duration', {}, []],
  ['at 1:2', {}, []],
];

t.test(`parseTimes on ${cases.length} answers`, async (t) => {
  for (const [text, opts, want] of cases) {
    const got = parseTimes(text, opts);
    t.equal(got.length, want.length, `${JSON.stringify(text)}: ${got.length} spans`);
    want.forEach(([start, end, sub], i) => {
      const g = got[i];
      if (!g) return;
      t.ok(Math.abs(g.start - start) < 1e-9 && Math.abs(g.end - end) < 1e-9, `${JSON.stringify(text)}: [${g.start}, ${g.end}] = [${start}, ${end}]`);
      t.equal(g.range, start !== end, `${JSON.stringify(text)}: range flag`); // every range case here has start != end
      if (sub !== undefined) {
        t.equal(g.text, sub, `${JSON.stringify(text)}: text`);
        t.equal(text.slice(g.index, g.index + g.text.length), g.text, 'index points at text');
      }
    });
  }
});

t.test('parseTimes options', async (t) => {
  t.throws(() => parseTimes('<t1>', { mode: 'lita' }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => parseTimes('1s', { duration: 0 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => parseTimes(5 as never), { code: 'ERR_INVALID_ARG' });
  // A 10-token vocabulary: <t9> is the end, <t3> = round(3 * 18 / 9, 2) = 6.
  t.same(parseTimes('<t3> <t9>', { duration: 18, numTimeTokens: 10 }).map((s) => [s.start, s.end]), [[6, 18]]);
});

t.test('parseStartEnd follows LITA\'s parse_start_end_timestamps', async (t) => {
  t.same(parseStartEnd('<t10> <t20> because the man jumps', { duration: 99 }), [10, 20]);
  t.same(parseStartEnd('from 5s to 9s, peak at 7s', {}), [5, 9]);
  // first two timestamps, whatever their order: <30.0> then <10.0> -> [10, 30]
  t.same(parseStartEnd('The dog runs at <30.0> and stops at <10.0>, then <50.0>.', { duration: 60 }), [10, 30]);
  // two singles count as start and end
  t.same(parseStartEnd('start 3.5 seconds, end 8 seconds'), [3.5, 8]);
  // fewer than two: the whole video for a prediction, an error for ground truth
  t.same(parseStartEnd('only at 5s', { duration: 60 }), [0, 60]);
  t.same(parseStartEnd('no idea', { duration: 42 }), [0, 42]);
  t.throws(() => parseStartEnd('only at 5s', { duration: 60, strict: true }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => parseStartEnd('only at 5s'), { code: 'ERR_INVALID_ARG' });
});
