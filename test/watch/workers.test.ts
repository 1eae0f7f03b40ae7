// watch() from several worker threads at once and a worker terminated mid-watch (in a process
// of its own): every watch gets all its windows, and the process lives on.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { colourClip } from './helpers.js';

t.test('two workers and the main thread watch at once; a third worker is terminated mid-watch', { timeout: 300_000 }, async (t) => {
  const clip = await colourClip(24, [[6, 10], [16, 20]]);
  const script = fileURLToPath(new URL('./scripts/workers.mjs', import.meta.url));
  const r = await new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
    const p = spawn(process.execPath, [script, clip], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
  t.equal(r.signal, null, 'no signal');
  t.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out.trim().split('\n').pop()!);
  for (const w of [rep.main, ...rep.workers, rep.after]) {
    t.same(w.ends, [4, 8, 12, 16, 20, 24], 'all windows');
    t.equal(w.encoded, 24, 'each frame encoded once');
  }
  t.equal(rep.terminated, true);
});
