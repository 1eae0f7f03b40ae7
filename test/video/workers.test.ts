/** Worker threads decoding beside the main thread, and a worker terminated mid-walk. */
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { media, readCounter } from '../fixtures/media.js';

t.test('worker threads and the main thread decode at once', async (tt) => {
  const path = await media.h264();
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.lib).then(async ({ openVideo }) => {
      const out = [];
      for (let i = 0; i < 5; i++) {
        const v = await openVideo(workerData.path);
        const f = await v.sample({ times: [workerData.t] }, { size: [96, 64] });
        out.push(f[0].rgb.length);
        await v.close();
      }
      parentPort.postMessage(out);
    }).catch((e) => parentPort.postMessage(String(e && e.code || e)));`;
  const lib = new URL('../../dist/video/index.js', import.meta.url).href;
  const workers = [0.5, 2].map((tSec) => new Promise<unknown>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { lib, path, t: tSec } });
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const main = (async () => {
    const got: number[] = [];
    for (let i = 0; i < 5; i++) {
      const v = await openVideo(path);
      got.push(readCounter((await v.sample({ times: [3] }, { size: [96, 64] }))[0]!));
      await v.close();
    }
    return got;
  })();
  const [w1, w2, m] = await Promise.all([...workers, main]);
  tt.same(w1, Array(5).fill(96 * 64 * 3));
  tt.same(w2, Array(5).fill(96 * 64 * 3));
  tt.same(m, Array(5).fill(90));
});

t.test('a worker terminated mid-walk does not take the process down', async (tt) => {
  const path = await media.long();
  const lib = new URL('../../dist/video/index.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.lib).then(async ({ openVideo }) => {
      const v = await openVideo(workerData.path);
      parentPort.postMessage('walking');
      await v.sample({ fps: 10 }, { size: [64, 64] });
    });`;
  for (let i = 0; i < 5; i++) {
    const w = new Worker(code, { eval: true, workerData: { lib, path } });
    await new Promise((r) => w.once('message', r));
    await new Promise((r) => setTimeout(r, 20 + i * 30));
    await w.terminate();
  }
  const v = await openVideo(path);
  tt.equal((await v.sample({ times: [1] }, { size: [32, 32] })).length, 1, 'the main thread still decodes');
  await v.close();
});
