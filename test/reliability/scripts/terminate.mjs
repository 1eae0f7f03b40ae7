// worker.terminate() while the worker generates, `rounds` times; then the main thread asks on
// its own model. Prints { before, after }.
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
  // Generation in a loop, no video decoding (beamcoder, which the video rewrite replaces, has its
  // own teardown crash): encode two frames, start a chat, stream a long answer.
  const model = await tinyModel({ cache: false });
  const frames = [0, 1].map((k) => ({ t: k, width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).fill(40 + 90 * k) }));
  let seen = 0;
  for (;;) {
    const grids = await model.encode(frames);
    const c = await model.chat(grids.map((g) => ({ embeddings: g.data, count: g.nx * g.ny })), { contextOptions: { contextSize: 512 } });
    for await (const _ of c.ask('Tell me a long story about it.', { maxTokens: 256 })) {
      if (++seen === workerData.tokens) parentPort.postMessage('generating');
    }
    await c.dispose();
  }
}
