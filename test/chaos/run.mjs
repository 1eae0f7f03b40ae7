// The chaos test (issue 11): fast-check generates random sequences of API calls (load, ask,
// chat, fork, encode, aborts at random times, dispose, worker start and terminate, wrong
// options, bad token ids); each runs in a child process (program.mjs). The property: the child
// never dies by a signal and exits 0, every rejection is a VidlmError whose code the README's
// error table documents, and a fresh model answers the same greedy text as before.
//   node test/chaos/run.mjs [--runs N] [--seed S]      (npm run test:chaos -- --runs N)
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

const root = fileURLToPath(new URL('../../', import.meta.url));
const program = fileURLToPath(new URL('./program.mjs', import.meta.url));

/** Codes of the README's error table. */
export function documentedCodes() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## CLI'));
  return new Set(table.match(/ERR_[A-Z_]+/g));
}

/** The media a program uses: a still, a 4 s clip, a clip cut in half. */
function chaosMedia() {
  const dir = join(root, '.cache', 'media');
  mkdirSync(dir, { recursive: true });
  const make = (name, args) => {
    const f = join(dir, name);
    if (!existsSync(f)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...args, f]);
    return f;
  };
  const still = make('chaos-still.png', ['-f', 'lavfi', '-i', 'testsrc=size=96x96:rate=1', '-frames:v', '1']);
  const clip = make('chaos-clip.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=96x96:rate=10:duration=4', '-pix_fmt', 'yuv420p']);
  const broken = join(dir, 'chaos-broken.mp4');
  if (!existsSync(broken)) { const b = readFileSync(clip); writeFileSync(broken, b.subarray(0, b.length >> 1)); }
  return { still, clip, broken };
}

const abortMs = fc.option(fc.integer({ min: 0, max: 60 }), { nil: null, freq: 3 });
const step = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('ask'), m: fc.nat(3), input: fc.constantFrom('still', 'clip', 'broken', 'missing'), strategy: fc.constantFrom('concat', 'pllava', 'slowfast', 'auto'), maxTokens: fc.integer({ min: 1, max: 8 }), abortMs }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('bad'), m: fc.nat(3), which: fc.nat(50) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('encode'), m: fc.nat(3), n: fc.integer({ min: 1, max: 6 }), abortMs }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('load'), cache: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('chat'), m: fc.nat(3), abortMs }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('fork'), c: fc.nat(5) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('chatAsk'), c: fc.nat(5), long: fc.boolean(), abortMs }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('dispose'), what: fc.constantFrom('chat', 'model'), c: fc.nat(5), m: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('detokenize'), m: fc.nat(3), id: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.constant(2 ** 31 - 1)) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('worker'), terminateMs: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
  { arbitrary: fc.constant({ op: 'await' }), weight: 2 },
);

/** Runs the property; throws (fast-check's report, shrunk) when a program breaks it. */
export function chaos({ runs = 40, seed = 11, log = () => {} } = {}) {
  const media = chaosMedia();
  const codes = documentedCodes();
  const baseline = runProgram([], media);
  if (baseline.status !== 0) throw new Error(`the empty program failed: ${baseline.stderr}`);
  const expected = JSON.parse(baseline.stdout.trim().split('\n').pop()).after;
  let n = 0;
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 14 }), (steps) => {
    const r = runProgram(steps, media);
    log(`run ${++n}: ${steps.length} steps, exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}`);
    if (r.error?.code === 'ETIMEDOUT') throw new Error(`the program hung (killed after 120 s)\n${r.stderr.slice(-2000)}`);
    if (r.signal) throw new Error(`the process died by ${r.signal}\n${r.stderr.slice(-2000)}`);
    if (r.status !== 0) throw new Error(`exit code ${r.status}\n${r.stderr.slice(-2000)}`);
    const { rejections, after } = JSON.parse(r.stdout.trim().split('\n').pop());
    for (const e of rejections) {
      if (!e.vidlm || !codes.has(e.code)) throw new Error(`a rejection that is not a documented VidlmError: ${JSON.stringify(e)}`);
    }
    if (after !== expected) throw new Error(`the model answers ${JSON.stringify(after)} afterwards, not ${JSON.stringify(expected)}`);
  }), { numRuns: runs, seed, endOnFailure: true, verbose: 1 }); // no shrinking: each try is a process
  return { runs: n, expected };
}

function runProgram(steps, media) {
  return spawnSync(process.execPath, [program, JSON.stringify(steps), media.still, media.clip, media.broken],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
  const started = Date.now();
  const r = chaos({ runs: arg('runs', 40), seed: arg('seed', Date.now() % 100000), log: (l) => console.log(l) });
  console.log(`chaos: ${r.runs} runs passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
