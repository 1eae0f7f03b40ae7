// Runs one chaos program (JSON in argv[2]) against the compiled library: each step starts a
// call without awaiting it (so calls overlap), `await` steps wait for everything started. At
// the end it prints one JSON line: every rejection as { code, vidlm } and the greedy answer a
// fresh model gives afterwards. The parent checks the process did not die.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const vidlm = await import(join(root, 'dist/index.js'));
const { tinyModels } = await import(join(root, 'dist/fixtures/tiny-models.js'));
const paths = await tinyModels();
const load = (opts = {}) => vidlm.loadModel({ model: paths.model, mmproj: paths.mmproj, threads: 1, ...opts });
const greedy = { maxTokens: 6, temperature: 0, contextSize: 512 };

if (!isMainThread) {
  // A worker that decodes video, encodes, prefills and generates until it is terminated, so a
  // termination lands in any of them (the video decoder's own calls included).
  const model = await load({ cache: false });
  parentPort.postMessage('ready');
  for (;;) {
    const c = await vidlm.chat(workerData.clip, { model, frames: 2, contextSize: 512 });
    await c.ask('What is it?', { maxTokens: 24 }).turn;
    await c.dispose();
  }
}

const [programJson, still, clip, broken] = process.argv.slice(2);
const inputs = { still, clip, broken, missing: join(root, '.cache', 'no-such-file.mp4') };
const program = JSON.parse(programJson);
const rejections = [];
const pending = new Set();
const models = [], chats = [], workers = [];
const track = (p) => {
  const q = Promise.resolve().then(p).catch((e) => { rejections.push({ code: e?.code ?? null, vidlm: e instanceof vidlm.VidlmError, message: String(e?.message ?? e) }); });
  pending.add(q);
  q.finally(() => pending.delete(q));
};
const pick = (list, i) => list.length ? list[i % list.length] : undefined;
const abortAfter = (ms) => {
  if (ms === null) return undefined;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), ms);
  return ac.signal;
};
/** Wrong options the API must refuse with a code. */
const badOptions = [
  { maxTokens: -1 }, { temperature: 'hot' }, { frames: 0 }, { fps: 1e6 }, { segment: [5, 1] }, { strategy: 'zoom' },
  { grammar: 'root ::= ((' }, { jsonSchema: 'nope' }, { onProgress: 'x' }, { onToken: 5 }, { preamble: 'yes' }, { contextSize: 8 },
  { encodeBatchSize: 0 }, { stop: [1] }, { timeTokens: 'soon' }, { signal: 'now' }, { segment: [100, 200] },
];

models.push(await load());
for (const step of program) {
  const model = pick(models, step.m ?? 0);
  switch (step.op) {
    case 'load': track(async () => { models.push(await load({ cache: step.cache ? {} : false })); }); break;
    case 'ask': track(() => vidlm.ask(inputs[step.input], 'What is it?', { model, ...greedy, strategy: step.strategy, maxTokens: step.maxTokens, signal: abortAfter(step.abortMs) })); break;
    case 'bad': track(() => vidlm.ask(inputs.clip, 'What is it?', { model, ...greedy, ...badOptions[step.which % badOptions.length] })); break;
    case 'encode': track(() => model.encode(Array.from({ length: step.n }, (_, k) => ({ t: k, width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).fill(k * 7 + step.n) })), { signal: abortAfter(step.abortMs) })); break;
    case 'chat': track(async () => { chats.push(await vidlm.chat(inputs.still, { model, contextSize: 512, signal: abortAfter(step.abortMs) })); }); break;
    case 'fork': { const c = pick(chats, step.c); if (c) track(async () => { chats.push(await c.fork()); }); break; }
    case 'chatAsk': { const c = pick(chats, step.c); if (c) track(() => c.ask(step.long ? 'why '.repeat(300) : 'And then?', { maxTokens: 3, temperature: 0, signal: abortAfter(step.abortMs) }).turn); break; }
    case 'dispose': {
      if (step.what === 'chat') { const c = pick(chats, step.c); if (c) track(() => c.dispose()); }
      else if (models.length > 1) { const [m] = models.splice(step.m % models.length, 1); m.dispose(); }
      break;
    }
    case 'detokenize': track(async () => { const ctx = await model.createContext({ contextSize: 64 }); try { ctx.detokenize(Int32Array.of(step.id)); } finally { ctx.dispose(); } }); break;
    case 'worker': {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { clip: inputs.clip } });
      workers.push(w);
      track(() => new Promise((resolve, reject) => {
        w.once('error', reject);
        w.once('message', () => setTimeout(() => w.terminate().then(resolve, reject), step.terminateMs));
      }));
      break;
    }
    case 'await': while (pending.size) await Promise.all([...pending]); break;
  }
}
while (pending.size) await Promise.all([...pending]);
await Promise.all(workers.map((w) => w.terminate()));
await Promise.all(chats.map((c) => c.dispose()));
for (const m of models) m.dispose();
const fresh = await load();
const after = (await vidlm.ask(still, 'What is it?', { model: fresh, ...greedy })).text;
fresh.dispose();
console.log(JSON.stringify({ rejections, after }));
