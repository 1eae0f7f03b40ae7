// The thread policy on every surface: serve's slots, watch and the CLI's flags (ask, batch) all
// run their compute calls under the one budget (or fixed threads when given).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, watch } from '../../lib/index.js';
import { computeBudget, type SystemView } from '../../lib/threads/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { mediaDir, post, startServer, videoTurn } from '../server/helpers.js';

const m = await tinyModels();
const clip = await media.h264();
const md = await mediaDir();
t.teardown(md.cleanup);
const twoIdleCores = async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0 });
computeBudget.setProbe(twoIdleCores);
t.teardown(() => computeBudget.setProbe());
const { server, url } = await startServer({ model: { model: m.model, mmproj: m.mmproj, threads: 'auto' }, parallel: 2, mediaPath: md.dir });
t.teardown(() => server.close());
const llava = await loadModel({ model: m.model, mmproj: m.mmproj });
t.teardown(() => llava.dispose());
const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

t.test('serve --parallel 2: the two slots share the budget instead of each taking every core', async (t) => {
  computeBudget.resetStats();
  const [a, b] = await Promise.all([
    post(url, { messages: [videoTurn('clip.mp4', 'What happens?')], temperature: 0, max_tokens: 8 }),
    post(url, { messages: [videoTurn('clip.mp4', 'What colour is it?')], temperature: 0, max_tokens: 8 }),
  ]);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  const s = computeBudget.stats();
  t.equal(s.peakLeases, 2, 'both slots computed at once');
  t.ok(s.peakInUse <= 2, `threads in use at once: ${s.peakInUse} of a budget of 2`);
  t.equal(s.inUse, 0);
});

t.test('watch: each window\'s calls take leases of the budget', async (t) => {
  computeBudget.resetStats();
  let windows = 0;
  for await (const w of watch(clip, { model: llava, every: 2, window: 2, realtime: false, maxTokens: 2, temperature: 0, contextSize: 2048 })) {
    if ('text' in w) windows++;
  }
  t.ok(windows >= 1);
  const s = computeBudget.stats();
  t.ok(s.grants.length >= 3 * windows, `encode, prefill and generate of each window leased threads (${s.grants.length} leases)`);
  t.ok(s.peakInUse <= 2);
});

t.test('CLI: --threads and --poll reach loadModel, bad values are ERR_INVALID_ARG', async (t) => {
  const base = [cli, 'ask', clip, 'What happens?', '--model', m.model, '--mmproj', m.mmproj, '--max-tokens', '2', '--temp', '0', '--json'];
  const fixed = spawnSync(process.execPath, [...base, '--threads', '1', '--poll', '0'], { encoding: 'utf8' });
  t.equal(fixed.status, 0, fixed.stderr);
  const auto = spawnSync(process.execPath, [...base, '--threads', 'auto'], { encoding: 'utf8' });
  t.equal(auto.status, 0, auto.stderr);
  t.equal(JSON.parse(auto.stdout).text, JSON.parse(fixed.stdout).text, 'the same answer at temperature 0');
  for (const [flag, value] of [['--poll', '101'], ['--threads', '0'], ['--threads', 'many']]) {
    const bad = spawnSync(process.execPath, [...base, flag!, value!], { encoding: 'utf8' });
    t.not(bad.status, 0);
    t.match(bad.stderr, /ERR_INVALID_ARG/, `${flag} ${value}`);
  }
});

t.test('CLI batch: --threads auto --poll 0 run the jobs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-threads-batch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const jobs = join(dir, 'jobs.jsonl'), out = join(dir, 'out.jsonl');
  writeFileSync(jobs, [JSON.stringify({ id: 'a', video: clip, question: 'What happens?' }), JSON.stringify({ id: 'b', video: clip, question: 'Why?' })].join('\n') + '\n');
  const r = spawnSync(process.execPath, [cli, 'batch', jobs, '--model', m.model, '--mmproj', m.mmproj, '--out', out, '--parallel', '2', '--threads', 'auto', '--poll', '0', '--max-tokens', '2'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);
});
