// watch() in two worker threads and the main thread at once, and a third worker terminated in
// the middle of its watch. argv[2]: the clip. Prints { main, workers: [...], terminated }.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { loadModel, watch } = await import(join(root, 'dist/index.js'));
const { tinyModels } = await import(join(root, 'dist/fixtures/tiny-models.js'));
const m = await tinyModels();
const load = () => loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, cache: false });

async function run(clip, onWindow) {
  const model = await load();
  try {
    const ends = [];
    let encoded = 0;
    for await (const x of watch(clip, { model, every: 4, window: 8, fps: 1, realtime: false, maxTokens: 3, temperature: 0 })) {
      if (x.type !== 'window') continue;
      ends.push(x.windowEnd);
      encoded += x.encoded;
      onWindow?.(ends.length);
    }
    return { ends, encoded };
  } finally {
    model.dispose();
  }
}

if (isMainThread) {
  const clip = process.argv[2];
  const worker = (data) => new Worker(new URL(import.meta.url), { workerData: { clip, ...data } });
  const finish = (w) => new Promise((resolve, reject) => { w.on('message', (msg) => { if (msg.done) resolve(msg.result); }); w.once('error', reject); });
  const doomed = worker({ post: true });
  const terminated = new Promise((resolve, reject) => {
    doomed.on('message', async (msg) => { if (msg.window === 2) { await doomed.terminate(); resolve(true); } });
    doomed.once('error', reject);
  });
  const [main, a, b, t] = await Promise.all([run(clip), finish(worker({})), finish(worker({})), terminated]);
  // the process goes on: one more watch after the terminate
  const after = await run(clip);
  console.log(JSON.stringify({ main, workers: [a, b], terminated: t, after }));
} else {
  const result = await run(workerData.clip, workerData.post ? (n) => parentPort.postMessage({ window: n }) : undefined);
  parentPort.postMessage({ done: true, result });
}
