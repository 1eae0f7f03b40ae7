import t from 'tap';
import {
  formatClock, formatFixed, formatSeconds, formatTime, litaIndexToSeconds, litaToken, litaVocabulary,
  parseTimes, pyRound, resolveTimeEncoding, roundHalfEven, secondsToLitaIndex, timeMarker,
} from '../../lib/time/index.js';
import { composeUserTurn, videoTimeInstruction } from '../../lib/pipeline/assemble.js';
import { litaLocalizeQuestion } from '../../lib/prompt/index.js';

t.test('numpy rounding: halves to even', async (t) => {
  t.equal(roundHalfEven(0.5), 0);
  t.equal(roundHalfEven(1.5), 2);
  t.equal(roundHalfEven(2.5), 2);
  t.equal(roundHalfEven(3.4999), 3);
  t.equal(roundHalfEven(3.5001), 4);
  t.equal(roundHalfEven(-1.5), -2);
});

t.test('Python float formatting and round()', async (t) => {
  // 0.125 and 0.375 are exact binary ties: Python rounds them to even (JS toFixed rounds up).
  t.equal(formatFixed(0.125, 2), '0.12');
  t.equal(formatFixed(0.375, 2), '0.38');
  // 2.675 is stored as 2.67499999..., 1.005 as 1.00499999...
  t.equal(formatFixed(2.675, 2), '2.67');
  t.equal(formatFixed(1.005, 2), '1.00');
  t.equal(formatFixed(2.5, 0), '2');
  t.equal(formatFixed(3.5, 0), '4');
  t.equal(formatFixed(10, 2), '10.00');
  t.equal(formatFixed(-0.001, 2), '-0.00');
  t.equal(formatFixed(123.456, 1), '123.5');
  t.equal(pyRound(2.675, 2), 2.67);
  t.equal(pyRound(7.2727, 2), 7.27);
});

t.test('LITA seconds <-> token index', async (t) => {
  // idx = round(99 * (t / duration)): 30 s of 60 -> 49.5 -> 50 (even); 59.9 s -> 98.835 -> 99.
  t.equal(secondsToLitaIndex(30, 60), 50);
  t.equal(secondsToLitaIndex(59.9, 60), 99);
  t.equal(secondsToLitaIndex(0, 60), 0);
  t.equal(secondsToLitaIndex(61, 60), 99, 'past the end: clamped to the last token');
  // With 5 tokens (max offset 4): 4 * (5/8) = 2.5 exactly -> 2 by half-to-even (Math.round: 3).
  t.equal(secondsToLitaIndex(5, 8, 5), 2);
  // 4 * (7/8) = 3.5 -> 4.
  t.equal(secondsToLitaIndex(7, 8, 5), 4);
  // token -> seconds: round(idx * duration / 99, 2): 50 * 60 / 99 = 30.3030... -> 30.3.
  t.equal(litaIndexToSeconds(50, 60), 30.3);
  t.equal(litaIndexToSeconds(12, 60), 7.27); // 720 / 99 = 7.2727...
  t.equal(litaIndexToSeconds(99, 60), 60);
  t.equal(litaIndexToSeconds(150, 60), 60, 'clamped to the duration');
  t.equal(litaToken(12), '<t12>');
  t.equal(litaToken(12, 'paper'), '<13>');
  const vocab = litaVocabulary();
  t.equal(vocab.length, 100);
  t.equal(vocab[0], '<t0>');
  t.equal(vocab[99], '<t99>');
  t.equal(litaVocabulary(100, 'paper')[99], '<100>');
});

t.test('encode then parse returns the time within half a token', async (t) => {
  const duration = 137.3;
  for (let k = 0; k <= 40; k++) {
    const sec = (duration * k) / 40;
    const enc = resolveTimeEncoding({ timeTokens: 'lita', duration });
    const marker = timeMarker(sec, enc)!;
    const [span] = parseTimes(marker.text, { duration, mode: 'lita' });
    t.ok(Math.abs(span!.start - sec) <= duration / 99 / 2 + 0.005, `${sec.toFixed(3)} s -> ${marker.text} -> ${span!.start}`);
    const paper = timeMarker(sec, resolveTimeEncoding({ timeTokens: 'lita', duration, litaSpelling: 'paper' }))!;
    t.equal(parseTimes(paper.text, { duration, mode: 'lita' })[0]!.start, span!.start, `paper spelling ${paper.text}`);
  }
});

t.test('timestamp text formats', async (t) => {
  t.equal(formatSeconds(12.5), '12.5');
  t.equal(formatSeconds(12), '12.0');
  t.equal(formatSeconds(1 / 3), '0.33');
  t.equal(formatSeconds(0.125), '0.12');
  t.equal(formatSeconds(59.999), '60.0');
  t.equal(formatClock(62), '1:02');
  t.equal(formatClock(62.5), '1:02.5');
  t.equal(formatClock(3723.5), '1:02:03.5');
  t.equal(formatClock(5), '0:05');
  t.equal(formatClock(5, 2), '0:05.00');
  t.equal(formatTime(12.5), '[12.5s]');
  t.equal(formatTime(12.5, '{t:2} seconds'), '12.50 seconds');
  t.equal(formatTime(75, 'at {clock}'), 'at 1:15');
  t.equal(formatTime(75, (s) => `${s * 1000} ms`), '75000 ms');
  // Every default text form parses back to the same seconds.
  for (const sec of [0, 0.5, 12.5, 61.25, 3723.5]) {
    t.equal(parseTimes(formatTime(sec))[0]!.start, sec, `[{t}s] ${sec}`);
    t.equal(parseTimes(formatTime(sec, '{clock}'))[0]!.start, sec, `{clock} ${sec}`);
  }
});

t.test('time markers', async (t) => {
  t.equal(timeMarker(3, resolveTimeEncoding()), null);
  t.same(timeMarker(3, resolveTimeEncoding({ timeTokens: 'text' })), { text: '[3.0s]' });
  t.same(timeMarker(30, resolveTimeEncoding({ timeTokens: 'lita', duration: 60 })), { text: '<t50>' });
  t.same(timeMarker(30, resolveTimeEncoding({ timeTokens: 'lita', duration: 60, hasToken: () => true })), { text: '<t50>', special: true });
  t.same(timeMarker(30, resolveTimeEncoding({ timeTokens: 'lita', duration: 60, hasToken: () => false })), { text: '<t50>' });
  t.throws(() => resolveTimeEncoding({ timeTokens: 'lita' }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => resolveTimeEncoding({ timeTokens: 'text', duration: -1 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => resolveTimeEncoding({ timeTokens: 'lita', duration: 5, numTimeTokens: 1 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => resolveTimeEncoding({ timeTokens: 'lita', duration: 5, litaSpelling: 'x' as never }), { code: 'ERR_INVALID_ARG' });
});

t.test('LLaVA-Video time instruction, verbatim', async (t) => {
  // 2.125 is a binary tie: Python's "{:.2f}" gives 2.12.
  t.equal(
    videoTimeInstruction(10.5, [0, 2.125, 4.25]),
    'The video lasts for 10.50 seconds, and 3 frames are uniformly sampled from it. These frames are located at 0.00s,2.12s,4.25s.Please answer the following questions related to this video.',
  );
  t.throws(() => videoTimeInstruction(0, [0]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => videoTimeInstruction(5, []), { code: 'ERR_INVALID_ARG' });
});

t.test('LITA question and user-turn composition', async (t) => {
  t.equal(litaLocalizeQuestion('The dog jumps.'), 'When does "the dog jumps" happen in the video? Answer the question only using start and end timestamps.');
  const video = [{ embeddings: new Float32Array(2), count: 1 }];
  const turn = composeUserTurn(video, 'What happens?', { preamble: { duration: 4, times: [0, 2] } });
  t.equal(turn[0], video[0]);
  t.same(turn[1], { text: '\nThe video lasts for 4.00 seconds, and 2 frames are uniformly sampled from it. These frames are located at 0.00s,2.00s.Please answer the following questions related to this video.\nWhat happens?' });
  t.same(composeUserTurn(video, 'Q?', { questionFirst: true })[0], { text: 'Q?\n' });
  t.same(composeUserTurn(video, 'Q?')[1], { text: '\nQ?' });
});
