// Two worker threads and the main thread load the addon and ask at once; each reports its
// answer. Prints { texts } (one per thread) when all are done.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { greedy, testImage, tinyModel, vidlm } from './common.mjs';

async function answer() {
  const model = await tinyModel();
  try {
    return (await vidlm.ask(testImage(), 'What is it?', { model, ...greedy })).text;
  } finally {
    model.dispose();
  }
}

if (isMainThread) {
  const inWorker = () => new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url));
    w.once('message', resolve);
    w.once('error', reject);
  });
  const texts = await Promise.all([inWorker(), inWorker(), answer()]);
  console.log(JSON.stringify({ texts }));
} else {
  parentPort.postMessage(await answer());
}
