/**
 * How a benchmark writes its table into README.md or docs/*.md (issue 30; the rule it satisfies is
 * bench/doc-numbers.ts, enforced by test/docs/numbers.test.ts):
 *
 *   const run = benchRun('tokens');                 // first thing: the load average at the start
 *   ... measure ...
 *   publish(run, { file: 'docs/video.md', section: 'tokens', body: table,
 *                  runs: 3, statistic: 'median of 3 alternating whole-process runs, min–max in brackets' });
 *
 * publish() prints the body and its footer; with `--write-docs` (or `--markdown` to print only) in
 * the bench's arguments it replaces what lies between `<!-- bench:<section>:start -->` and
 * `<!-- bench:<section>:end -->` in that file (the markers must already be there: a bench never
 * decides where a table goes). The footer names the command as run, the commit, the date, the CPU,
 * the cores, the load average at the start, the runs and the statistic.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseFooter } from './doc-numbers.js';

export interface BenchRun { name: string; args: string[]; load: number[]; started: Date; root: string; commit: string; dirty: string }

/** Call first: records the load average before the bench adds its own. */
export function benchRun(name: string, args = process.argv.slice(2), root = process.cwd()): BenchRun {
  // the commit and the tree as the bench starts: what it runs, whatever is committed while it runs
  return { name, args: args.filter((a) => a !== '--write-docs' && a !== '--markdown'), load: loadavg(), started: new Date(), root, commit: commit(root), dirty: dirtyNote(root, name) };
}

export const wantsDocs = (argv = process.argv.slice(2)) => argv.includes('--write-docs');

function commit(root: string): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(); } catch { return '0000000'; }
}

/** Said after the commit when what the bench measured or ran differs from it: lib/, native/, the bench itself or this helper. */
function dirtyNote(root: string, name: string): string {
  try {
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'lib', 'native', `bench/${name}.ts`, 'bench/doc-table.ts'], { cwd: root, encoding: 'utf8' }).trimEnd(); // not trim(): each line starts with its two status columns
    return dirty ? ` (with uncommitted changes to ${dirty.split('\n').map((l) => l.slice(3)).join(', ')})` : '';
  } catch { return ''; }
}

/** The footer line: `Measured by \`npm run bench -- NAME ARGS\` at commit …; <statistic>.` */
export function footer(run: BenchRun, o: { runs: number; statistic: string; note?: string }): string {
  const cmd = ['npm run bench --', run.name, ...run.args].join(' ');
  const date = run.started.toISOString().slice(0, 16).replace('T', ' ');
  const cpu = (cpus()[0]?.model ?? 'unknown CPU').replace(/[,;]/g, ' ').replace(/\s+/g, ' ').trim();
  const line = `Measured by \`${cmd}\` at commit ${run.commit}${run.dirty}, ${date} UTC, on ${cpu}, ${availableParallelism()} cores; ` +
    `load average at the start ${run.load.map((x) => x.toFixed(2)).join(' / ')}; ${o.runs === 1 ? 'one run' : `median of ${o.runs} runs`}: ${o.statistic}.` +
    (o.note ? ` ${o.note}` : '');
  if (!parseFooter(line)) throw new Error(`bench/doc-table.ts wrote a footer its own rule does not read: ${line}`);
  return line;
}

/** Replaces the text between a section's markers in a file (relative to the checkout). */
export function writeSection(root: string, file: string, section: string, content: string): void {
  const path = join(root, file);
  const doc = readFileSync(path, 'utf8');
  const a = `<!-- bench:${section}:start -->`, b = `<!-- bench:${section}:end -->`;
  const i = doc.indexOf(a), j = doc.indexOf(b);
  if (i < 0 || j < i) throw new Error(`${file} has no ${a} … ${b} section: add the markers where the table belongs`);
  writeFileSync(path, `${doc.slice(0, i + a.length)}\n${content.trim()}\n${doc.slice(j)}`);
}

/** Prints the section (body + footer) and, with --write-docs, writes it into its file. */
export function publish(run: BenchRun, o: { file: string; section: string; body: string; runs: number; statistic: string; note?: string }): string {
  const content = `${o.body.trim()}\n\n${footer(run, o)}`;
  console.log(`\n<!-- bench:${o.section} (${o.file}) -->\n${content}\n`);
  if (wantsDocs()) {
    writeSection(run.root, o.file, o.section, content);
    console.error(`${o.file}: section ${o.section} written`);
  }
  return content;
}

// statistics every bench shares
export const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
/** `median (min–max)` */
export const spread = (xs: number[], f: (x: number) => string = fmtMs) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
