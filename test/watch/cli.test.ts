// `vidlm watch`: the built CLI (dist/cli.js) in a child process with the tiny model.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import t from 'tap';
import { tinyModels } from '../fixtures/tiny-models.js';
import { colourClip, expectedTimes } from './helpers.js';

const root = resolve(import.meta.dirname, '..', '..');
const m = await tinyModels();
const base = ['--model', m.model, '--mmproj', m.mmproj, '--threads', '1'];
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'watch', ...args], { encoding: 'utf8', cwd: root, timeout: 240_000 });
const clip = await colourClip(24, [[6, 10], [16, 20]]);

t.test('--json prints one object per line: each window with its times and the frames it encoded', async (t) => {
  const r = cli(clip, ...base, '--every', '4', '--window', '8', '--fps', '1', '--no-realtime', '--max-tokens', '3', '--json');
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((x) => x.windowEnd), [4, 8, 12, 16, 20, 24]);
  let seen = new Set<number>();
  for (const x of lines) {
    t.equal(x.type, 'window');
    const want = expectedTimes(x.windowEnd, 8, 1);
    t.equal(x.frames, want.length);
    t.equal(x.encoded, want.filter((v) => !seen.has(v)).length, 'new frames only');
    seen = new Set([...seen, ...want]);
    t.ok(typeof x.text === 'string' && typeof x.lagMs === 'number' && typeof x.wallEnd === 'number' && typeof x.streamEnd === 'number');
  }
});

t.test('--fps-rule step: every round(rate / fps)-th frame of the file', async (t) => {
  // 10 fps clip at --fps 3: step takes every round(10 / 3) = 3rd frame, at 0.3 s steps (the time rule: 0, 0.4, 0.7, 1 …)
  const r = cli(clip, ...base, '--every', '4', '--window', '4', '--fps', '3', '--fps-rule', 'step', '--no-realtime', '--max-tokens', '1', '--json');
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(lines.length >= 6);
  for (const x of lines) {
    const want: number[] = [];
    for (let i = 0; i * 0.3 < Math.min(x.windowEnd, 24) - 1e-9; i++) if (i * 0.3 >= x.windowStart - 1e-9) want.push(Math.round(i * 3) / 10);
    t.same(x.frameTimes, want, `window ending at ${x.windowEnd}`);
  }
  const bad = cli(clip, ...base, '--fps', '3', '--fps-rule', 'sometimes', '--no-realtime');
  t.equal(bad.status, 1);
  t.match(bad.stderr, /ERR_INVALID_ARG/);
});

t.test('--when: every window answers yes or no', async (t) => {
  const r = cli(clip, ...base, '--every', '4', '--window', '8', '--no-realtime', '--when', 'the screen turns red', '--json');
  t.equal(r.status, 0, r.stderr);
  const items = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const x of items.filter((i) => i.type === 'window')) t.match(x.answer, /^(yes|no)$/);
});

t.test('--plan: the measured speeds and a per-window cost that adds up', async (t) => {
  const r = cli(clip, ...base, '--plan', '--every', '10', '--window', '30', '--fps', '1');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /measured on this machine: encode [\d.]+ ms\/frame, prefill [\d.]+ tok\/s, generate [\d.]+ tok\/s/);
  const speeds = /encode ([\d.]+) ms\/frame, prefill ([\d.]+) tok\/s, generate ([\d.]+) tok\/s/.exec(r.stdout)!.slice(1).map(Number);
  const row = /encode ([\d.]+) ms \((\d+) new frames\) \+ prefill ([\d.]+) ms \((\d+) tokens\) \+ generate ([\d.]+) ms \((\d+) tokens\) = ([\d.]+) s/.exec(r.stdout);
  t.ok(row, r.stdout);
  const [enc, fresh, pre, ptok, gen, gtok, total] = row!.slice(1).map(Number);
  t.equal(fresh, 10, 'every × fps new frames');
  // both printed to 0.1 ms: the per-frame figure's rounding (≤ 0.05) is multiplied by the frame count
  t.ok(Math.abs(enc! - fresh! * speeds[0]!) <= fresh! * 0.05 + 0.051, 'encode = new frames × ms per frame');
  t.ok(Math.abs(pre! - (ptok! * 1000) / speeds[1]!) < 0.2 + pre! * 0.01, 'prefill = tokens / rate');
  t.ok(Math.abs(gen! - (gtok! * 1000) / speeds[2]!) < 0.2 + gen! * 0.01, 'generate = tokens / rate');
  t.ok(Math.abs(total! - (enc! + pre! + gen!) / 1000) < 0.06, 'the total is the sum');
  t.match(r.stdout, /every\s+window\s+fps/);
});

t.test('bad arguments exit 2; a bad source exits 1 with its code', async (t) => {
  const a = cli(clip, '--model', m.model);
  t.equal(a.status, 2);
  t.match(a.stderr, /ERR_INVALID_ARG/);
  const b = cli(clip, ...base, '--every', 'soon');
  t.equal(b.status, 1);
  t.match(b.stderr, /ERR_INVALID_ARG: --every must be a number/);
  const c = cli('/nonexistent.mp4', ...base, '--no-realtime');
  t.equal(c.status, 1);
  t.match(c.stderr, /ERR_VIDEO_OPEN/);
  const d = cli(clip, ...base, '--prompt', 'a', '--when', 'b');
  t.equal(d.status, 1);
  t.match(d.stderr, /ERR_INVALID_ARG/);
});

// SIGTERM is how docker stop and systemd end a watch: it stops as cleanly as Ctrl-C (SIGINT)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} stops a real-time watch cleanly: exit 0, the windows so far printed`, { timeout: 120_000 }, async (t) => {
    const p = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'watch', clip, ...base, '--every', '1', '--window', '2', '--json'], { cwd: root });
    let out = '', err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (out.split('\n').length > 3) p.kill(signal);
    });
    p.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((r) => p.on('close', r));
    t.equal(code, 0, err);
    t.match(err, /stopped after \d+ windows/);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    t.ok(lines.length >= 3 && lines.length < 20, `${lines.length} windows before the stop (the clip has 24)`);
  });
}
