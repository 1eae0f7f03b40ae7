/**
 * The progress bar as a user sees it: `vidlm batch` runs in a real terminal (a detached tmux
 * pane) and the pane's text is read with `tmux capture-pane` while it runs and after.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { cliPath, quick, readResults, root, sleep, writeJobs } from './helpers.js';

const models = await tinyModels();
const clip = await media.h264();
const socket = `vidlm-batch-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux is missing: scripts/setup.sh installs it');
t.teardown(() => { tmux('kill-server'); });

t.test('the bar shows done/total, ETA, jobs per minute and failures, and ends at the total', async (t) => {
  const dir = t.testdir();
  const jobs = writeJobs(dir, 'jobs.jsonl', [
    ...Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, video: clip, task: 'ask', question: `q${i}` })),
    { id: 'gone', video: join(dir, 'gone.mp4'), task: 'ask', question: 'q' },
  ]);
  const out = join(dir, 'results.jsonl');
  const cmd = [process.execPath, cliPath, 'batch', jobs, '--model', models.model, '--mmproj', models.mmproj, '--threads', '1', '--out', out, ...quick]
    .map((a) => `'${a}'`).join(' ');
  const started = tmux('new-session', '-d', '-x', '160', '-y', '12', '-s', 'batch', '-c', root, `${cmd}; echo "exit=$?"; sleep 600`);
  t.equal(started.status, 0, started.stderr);

  const bar = /batch [\u2588\u2591]{24} (\d+)\/7 \| ETA (\S+) \| ([\d.]+) jobs\/min \| (\d+) failed/;
  const seen: RegExpExecArray[] = [];
  let screen = '';
  for (let i = 0; i < 1500 && !/exit=\d+/.test(screen); i++) {
    screen = tmux('capture-pane', '-p', '-t', 'batch').stdout;
    const m = bar.exec(screen);
    if (m && seen.at(-1)?.[0] !== m[0]) seen.push(m);
    await sleep(200);
  }
  t.match(screen, /exit=0/, screen);
  t.ok(seen.some((m) => Number(m[1]) > 0 && Number(m[1]) < 7), `a bar part-way through: ${seen.map((m) => m[0]).join(' / ')}`);
  const last = seen.at(-1)!;
  t.equal(last[1], '7', 'the bar ends at the total');
  t.equal(last[4], '1', 'the failure is counted');
  t.ok(Number(last[3]) > 0, 'jobs per minute');
  t.match(screen, /vidlm batch: 7 done \(1 failed\), 0 already done, 7 in all/);
  t.equal(readResults(out).length, 7);
});
