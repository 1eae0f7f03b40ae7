/**
 * The results journal under faults users' setups bring: a job id that looks like a line key,
 * two runs racing for the lock (a fresh lock and a dead run's), and a results file that cannot
 * be written — a full filesystem (a small tmpfs, where this process may mount one) and a
 * symlink to /dev/full — each a coded ERR_OUTPUT that stops the run with what was written kept.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../lib/batch/journal.js';
import { lockJournal } from '../../lib/batch/journal-lock.js';
import { parseJobs } from '../../lib/batch/jobs.js';
import { entryErrorLine } from '../../lib/batch/result.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { Cli, cliSync, quick, readResults, writeJobs } from './helpers.js';

t.test('a job whose id looks like a line key and that line\'s error are two results; a rerun skips both', async (t) => {
  const dir = t.testdir();
  const entries = parseJobs(`${JSON.stringify({ id: 'line:2', video: 'a.mp4', task: 'describe' })}\nnot json\n${JSON.stringify({ id: 3, video: 'b.mp4', task: 'describe' })}`);
  t.equal(new Set(entries.map((e) => e.key)).size, 3, 'three lines, three keys');
  const path = join(dir, 'r.jsonl');
  const j = await Journal.open(path);
  await j.append(entryErrorLine(entries[1]!)); // written first, as runLocalBatch does with bad lines
  await j.append({ id: 'line:2', text: 'ran' });
  await j.append({ id: '3', text: 'ran' });
  await j.close();
  const lines = readResults(path);
  t.same(lines.map((l) => [l.id, l.line ?? null]), [[null, 2], ['line:2', null], ['3', null]], 'both written');
  const again = await Journal.open(path);
  t.same(entries.map((e) => again.has(e.key)), [true, true, true], 'the rerun knows all three are done');
  t.notOk(again.has(parseJobs('{"id":"2","video":"v","task":"describe"}')[0]!.key), 'id "2" is not line 2');
  await again.close();
});

t.test('the lock: of two racers exactly one wins, for a free lock and for a dead run\'s', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'r.jsonl');
  for (const stale of [false, true]) {
    let both = 0;
    let none = 0;
    const races = stale ? 300 : 2000; // a free lock's race window is narrow: the old create-then-write lost ~1 in 100
    for (let i = 0; i < races; i++) {
      if (stale) writeFileSync(`${path}.lock`, '999999999'); // a killed run's
      const got = await Promise.allSettled([lockJournal(path), lockJournal(path)]);
      const won = got.filter((g) => g.status === 'fulfilled');
      if (won.length === 2) both++;
      if (won.length === 0) none++;
      const codes = got.flatMap((g) => (g.status === 'rejected' ? [g.reason.code] : []));
      if (codes.some((c) => c !== 'ERR_INVALID_ARG')) t.fail(`a loser's error: ${codes}`);
      if (readFileSync(`${path}.lock`, 'utf8') !== String(process.pid)) t.fail('the lock does not hold the winner\'s pid');
      for (const g of won) await (g as PromiseFulfilledResult<() => Promise<void>>).value();
    }
    t.equal(both, 0, `${stale ? 'stale' : 'free'} lock: never both of ${races} races`);
    t.equal(none, 0, `${stale ? 'stale' : 'free'} lock: never neither`);
  }
  t.same(readdirSync(dir), [], 'no lock or temp file left');
});

t.test('--out through a symlink to /dev/full: ERR_OUTPUT at once, nothing read or written', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'r.jsonl');
  symlinkSync('/dev/full', path);
  const t0 = Date.now();
  await t.rejects(Journal.open(path), { code: 'ERR_OUTPUT', message: /regular file/ });
  t.ok(Date.now() - t0 < 5000, 'no endless read of the device');
  t.notOk(existsSync(`${path}.lock`), 'no lock left');
});

/** A tmpfs of `kb` KiB mounted on a new temp folder: its path and its unmount, or null where this process may not mount. */
function tmpfs(kb: number): { dir: string; off: () => void } | null {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return { dir, off: () => { spawnSync('umount', ['-l', dir]); rmSync(dir, { recursive: true, force: true }); } };
}

/** Fills the filesystem of `dir` but one page (where the lock's temp file goes). */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 1);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  truncateSync(join(dir, 'filler'), Math.max(0, size - 4096));
}

const canMount = (() => {
  const probe = tmpfs(64);
  probe?.off();
  return probe !== null;
})();

t.test('a full filesystem: the write fails as ERR_OUTPUT, cut back to whole lines, later appends refused', { skip: !canMount && 'mount not permitted here' }, async (t) => {
  const { dir, off } = tmpfs(64)!;
  t.teardown(off);
  const path = join(dir, 'r.jsonl');
  const before = `${Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `old${i}`, text: 'x'.repeat(70) })).join('\n')}\n`;
  t.ok(before.length > 3000 && before.length < 4096);
  writeFileSync(path, before); // one page, nearly full
  fill(dir);
  const j = await Journal.open(path);
  t.equal(j.done.size, 40);
  const err = await j.append({ id: 'new', text: 'y'.repeat(2000) }).catch((e) => e);
  t.equal(err.code, 'ERR_OUTPUT', err.message);
  t.equal(err.details.errno, 'ENOSPC');
  await t.rejects(j.append({ id: 'next', text: 'z' }), { code: 'ERR_OUTPUT' }, 'the journal stays broken');
  t.notOk(j.has('id:new'), 'the job that was not written is not done');
  await j.close();
  t.equal(readFileSync(path, 'utf8'), before, 'what was written is kept, no half line');
});

t.test('vidlm batch on a full filesystem and on /dev/full: exit with ERR_OUTPUT, lines kept, no job after', { skip: !canMount && 'mount not permitted here' }, async (t) => {
  const models = await tinyModels();
  const clip = await media.h264();
  const dir = t.testdir();
  const { dir: fs, off } = tmpfs(64)!;
  t.teardown(off);
  const out = join(fs, 'results.jsonl');
  const before = `${Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `old${i}`, text: 'x'.repeat(70) })).join('\n')}\n`;
  writeFileSync(out, before); // one page, nearly full: the first result does not fit
  fill(fs);
  const jobs = writeJobs(dir, 'jobs.jsonl', Array.from({ length: 6 }, (_, i) => ({ id: `j${i}`, video: clip, task: 'describe', options: { maxTokens: 24 } })));
  const cli = new Cli(['batch', jobs, '--model', models.model, '--mmproj', models.mmproj, '--threads', '1', '--out', out, '--json', ...quick]);
  const code = await cli.exited;
  t.equal(code, 1, cli.stderr);
  t.match(cli.stderr, /vidlm: ERR_OUTPUT: cannot write the results file .*ENOSPC/);
  const stages = new Set(cli.events.filter((e) => e.event === 'stage').map((e) => e.id));
  t.ok(stages.size <= 1, `the run stopped at the first result: ${stages.size} of 6 jobs started`);
  const lines = readFileSync(out, 'utf8');
  t.ok(lines.startsWith(before) && lines.endsWith('\n'), 'earlier lines kept, whole lines only');
  readResults(out);

  const dev = join(dir, 'dev.jsonl');
  symlinkSync('/dev/full', dev);
  const r = cliSync(['batch', jobs, '--model', models.model, '--mmproj', models.mmproj, '--out', dev, ...quick], 60_000);
  t.equal(r.status, 1);
  t.match(r.stderr, /vidlm: ERR_OUTPUT: the results file .* must be a regular file/);
});
