// Every performance or size number in README.md and docs/*.md comes from a benchmark (issue 30):
// tables sit between `<!-- bench:<name>:start/end -->` markers with the footer bench/doc-table.ts
// writes, and no benchmark number stands outside them. The rule is bench/doc-numbers.ts; the first
// tests show it on small documents (what it catches and what ordinary prose keeps), the last one
// runs it on the repository's documents. Numbers not yet moved under a bench are listed, one by one,
// in test/docs/unsourced-numbers.json with who moves them; an entry that no longer matches fails, so
// the list only shrinks.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchmarkFigures, parseFooter, scanDoc } from '../../bench/doc-numbers.js';
import { benchRun, footer } from '../../bench/doc-table.js';

const root = process.cwd();
const FOOT = 'Measured by `npm run bench -- tokens --runs 3` at commit 1a2b3c4, 2026-12-07 02:30 UTC, on AMD EPYC, 2 cores; load average at the start 7.10 / 6.90 / 6.50; median of 3 runs: whole processes, min–max in brackets.';

t.test('a hand-typed number in prose or in a table outside the markers is caught', async (t) => {
  const prose = scanDoc('# Speed\n\nEncoding 8 frames took 9.10 s, 1.91× faster than llama-mtmd-cli.\n');
  t.same(prose.strays.map((s) => s.figure).sort(), ['1.91×', '9.10 s']);
  const table = scanDoc('| encoder | vidlm process |\n| --- | --- |\n| LLaVA | 9.10 s (8 graphs) |\n');
  t.same(table.strays.map((s) => s.figure), ['9.10 s'], 'a table row under a "process" column');
  // a sentence over several lines keeps its measuring word
  t.same(scanDoc('A cold build took\nabout 5 minutes on this machine.\n').strays.map((s) => s.figure), ['about 5 minutes']);
  t.same(scanDoc('- RSS after ask 200: ~145 MiB, growth +7.4 %\n').strays.map((s) => s.figure), ['~145 MiB', '7.4 %']);
  t.same(benchmarkFigures('the queue ran at 0.56–1.05× the rate of one process'), ['1.05×']);
});

t.test('ordinary prose is not caught: inputs, options, dimensions, code', async (t) => {
  for (const line of [
    'A 60 s clip at 1280×720, 2 cores, sampled with `--every 10`.',
    'The default window is 2 s (Qwen2.5-Omni\'s); grammars are at most 256 KiB.',
    'Random weights; the measured G=8 counts use an 8×8 grid, 4 × 64 tokens.',
    'We measured it on a 60 s clip with 2 s windows and 30 s of sound.',
    'Requests at most 5 s apart; a median gap ≥ 10 s; every 5 s a cue.',
    'vidlm 0.1.0 over llama.cpp b6000, FFmpeg 7.1.5, Node 20.17.',
  ]) t.same(benchmarkFigures(line), [], line);
  t.same(scanDoc('```\nreal 9.10 s, 1.91× faster\n```\n').strays, [], 'fenced code');
});

t.test('a marked section needs the footer of its bench', async (t) => {
  const good = scanDoc(`<!-- bench:tokens-same:start -->\n| a | time |\n| --- | --- |\n| x | 9.10 s |\n\n${FOOT}\n<!-- bench:tokens-same:end -->\n`);
  t.same(good.strays, []);
  t.same(good.sections.map((s) => [s.name, s.bench, s.problems]), [['bench:tokens-same', 'tokens-same', []]]);
  t.equal(good.sections[0]!.footer!.runs, 3);
  t.same(good.sections[0]!.footer!.load, [7.1, 6.9, 6.5]);

  const bare = scanDoc('<!-- bench:tokens:start -->\n| a | time |\n| --- | --- |\n| x | 9.10 s |\n<!-- bench:tokens:end -->\n');
  t.match(bare.sections[0]!.problems.join(), /no footer/);
  const noLoad = FOOT.replace(/; load average at the start [^;]+/, '');
  t.match(scanDoc(`<!-- bench:tokens:start -->\n${noLoad}\n<!-- bench:tokens:end -->\n`).sections[0]!.problems.join(), /no footer/, 'a footer without the load');
  const noRuns = FOOT.replace(/median of 3 runs/, 'typical');
  t.equal(parseFooter(noRuns), null, 'a footer without runs and statistic');
  t.match(scanDoc(`<!-- bench:watch:start -->\n${FOOT}\n<!-- bench:watch:end -->\n`).sections[0]!.problems.join(), /names bench "tokens"/);
  t.match(scanDoc('<!-- bench:tokens:start -->\nx\n').problems.join(), /no end marker/);
  // bench/contention.ts's markers and footer read the same way
  const legacy = scanDoc('<!-- contention-table:tiny:start -->\nMeasured by `npm run bench -- contention` at commit b160e93, 2026-12-06 23:27 UTC, on AMD EPYC, 2 cores; load average at the start 12.94 / 15.98 / 12.60 (the machine was shared); each cell: median of 3 whole-process runs.\n<!-- contention-table:tiny:end -->\n');
  t.same(legacy.sections.map((s) => [s.bench, s.problems]), [['contention', []]]);
});

t.test('the footer bench/doc-table.ts writes satisfies the rule', async (t) => {
  const run = benchRun('tokens', ['--runs', '3', '--write-docs']);
  const line = footer(run, { runs: 3, statistic: 'whole processes, alternating' });
  const f = parseFooter(line);
  t.ok(f, line);
  t.equal(f!.bench, 'tokens');
  t.equal(f!.runs, 3);
  t.match(line, /`npm run bench -- tokens --runs 3`/, 'the command as run, without --write-docs');
});

interface Unsourced { file: string; contains?: string; section?: string; owner: string; why: string }

t.test('README.md and docs/*.md: every benchmark number is in a footed section of an existing bench', async (t) => {
  const pending = JSON.parse(readFileSync(join(root, 'test', 'docs', 'unsourced-numbers.json'), 'utf8')) as Unsourced[];
  const used = new Set<Unsourced>();
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const file of files) {
    const r = scanDoc(readFileSync(join(root, file), 'utf8'));
    t.same(r.problems, [], `${file}: markers`);
    for (const s of r.sections) {
      const waived = pending.find((p) => p.file === file && p.section === s.name);
      if (waived) { used.add(waived); continue; }
      t.same(s.problems, [], `${file}: section ${s.name} (line ${s.startLine})`);
      if (s.footer) t.ok(existsSync(join(root, 'bench', `${s.footer.bench}.ts`)), `${file}: ${s.name}'s footer names bench/${s.footer.bench}.ts`);
    }
    for (const stray of r.strays) {
      const waived = pending.find((p) => p.file === file && p.contains && stray.text.includes(p.contains));
      if (waived) { used.add(waived); continue; }
      t.fail(`${file}:${stray.line}: "${stray.figure}" is a benchmark number outside a bench section (move it under a bench's markers, or drop it): ${stray.text.slice(0, 160)}`);
    }
  }
  for (const p of pending) t.ok(used.has(p), `test/docs/unsourced-numbers.json: ${p.file} "${p.contains ?? p.section}" no longer matches; remove the entry`);
});
