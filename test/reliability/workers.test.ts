// Issue 11, items 2 and 3: the addon in two worker threads and the main thread at once, and
// worker.terminate() during generation, leave the process alive and the model answering.
import t from 'tap';
import { report, runScript } from './helpers.js';

t.test('two workers and the main thread ask at once', async (t) => {
  const r = await runScript('workers.mjs');
  t.equal(r.signal, null, 'no signal');
  t.equal(r.code, 0, r.stderr);
  const { texts } = report<{ texts: string[] }>(r);
  t.equal(texts.length, 3);
  t.equal(new Set(texts).size, 1, 'the same greedy answer in every thread');
});

t.test('worker.terminate() during generation, three times', async (t) => {
  const r = await runScript('terminate.mjs', ['3']);
  t.equal(r.signal, null, 'no signal');
  t.equal(r.code, 0, r.stderr);
  const { before, after } = report<{ before: string; after: string }>(r);
  t.equal(after, before, 'the main thread answers the same afterwards');
});
