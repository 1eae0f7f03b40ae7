// worker.terminate() while the worker generates (or encodes, or prefills: it asks in a loop),
// `rounds` times; then the main thread asks on its own model. Prints { before, after }.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { greedy, testImage, tinyModel, vidlm } from './common.mjs';

if (isMainThread) {
  const rounds = Number(process.argv[2] ?? 3);
  const model = await tinyModel();
  const once = async () => (await vidlm.ask(testImage(), 'What is it?', { model, ...greedy })).text;
  const before = await once();
  for (let i = 0; i < rounds; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { tokens: 3 + i } });
    await new Promise((resolve, reject) => {
      w.on('message', (m) => { if (m === 'generating') resolve(); });
      w.once('error', reject);
    });
    await w.terminate();
  }
  console.log(JSON.stringify({ before, after: await once() }));
} else {
  const model = await tinyModel();
  let seen = 0;
  const onToken = () => { if (++seen === workerData.tokens) parentPort.postMessage('generating'); };
  for (;;) await vidlm.ask(testImage(), 'Tell me a long story about it.', { model, maxTokens: 256, temperature: 0, contextSize: 512, onToken });
}
