// One question in a process of its own, for bench/contention.ts (whole process timed by the
// parent): loads the pair from the built package (dist/), asks, prints one JSON line of what
// ask() measured and the threads the policy gave each compute call.
import { ask, loadModel } from '../dist/index.js';
import { computeBudget } from '../dist/threads/index.js';

const c = JSON.parse(process.argv[2]);
const model = await loadModel({ model: c.model, mmproj: c.mmproj, cache: false, ...(c.threads === undefined ? {} : { threads: c.threads }), ...(c.poll === undefined ? {} : { poll: c.poll }) });
const r = await ask(c.input, c.question, { model, strategy: c.strategy, ...(c.frames ? { frames: c.frames } : {}), maxTokens: c.maxTokens, temperature: 0, contextSize: c.contextSize });
model.dispose();
// the process's CPU time, every thread (decoding, encoding, the LLM, node): what the CPU share it got had to cover
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ timings: r.timings, tokens: r.tokens, grants: computeBudget.stats().grants, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
