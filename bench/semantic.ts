/**
 * The semantic eval's table (docs/methods.md, "Semantic eval"): the trained tiny model's held-out
 * clips (lib/fixtures/semantic, built by scripts/setup.sh) asked through vidlm's real pipeline for
 * every pooled strategy and time style, beside the training script's own reference pipeline on the
 * same clip specs (python/semantic/reference.py). Accuracy and mIoU are exact for these clips and
 * this model; seconds per question are one loaded run's mean and only compare rows of one run.
 *
 * Run: npm run build:ts && npm run bench -- semantic [--threads 1] [--write-docs]
 * --write-docs replaces the bench:semantic section of docs/methods.md (bench/doc-table.ts: the
 * table and its footer line).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../lib/index.js';
import { semanticModel } from '../lib/fixtures/semantic/build.js';
import { semanticTable, type ReferenceRow } from '../lib/eval/semantic/report.js';
import { defaultRuns, runSemantic, type SemanticRunReport } from '../lib/eval/semantic/run.js';
import { benchRun, publish } from './doc-table.js';

const run = benchRun('semantic');
const { values } = parseArgs({ options: { threads: { type: 'string' }, 'write-docs': { type: 'boolean', default: false }, markdown: { type: 'boolean', default: false } } });
const threads = Number(values.threads ?? 1);

const sm = await semanticModel({ log: (s) => process.stderr.write(s) });
const meta = JSON.parse(readFileSync(join(sm.dir, 'weights.json'), 'utf8')) as { config: { n_embd: number; n_layer: number }; steps: number; kept_step?: number; batch: number; train_seconds: number };
const reference = (JSON.parse(readFileSync(sm.reference, 'utf8')) as { rows: ReferenceRow[] }).rows;
const model = await loadModel({ model: sm.model, mmproj: sm.mmproj, threads });
const reports: SemanticRunReport[] = [];
try {
  for (const r of defaultRuns()) {
    reports.push(await runSemantic(model, sm.clips, r));
    process.stderr.write(`${r.strategy} ${r.timeTokens}: done\n`);
  }
} finally {
  model.dispose();
}

const mb = (f: string) => (statSync(f).size / 1e6).toFixed(1);
const scenes = sm.clips.filter((c) => c.kind === 'scene').length;
const flashes = sm.clips.length - scenes;
const body = `${semanticTable(reports, reference)}
Model: LLM n_embd ${meta.config.n_embd}, ${meta.config.n_layer} layers (${mb(sm.model)} MB as F32 GGUF), mmproj ${mb(sm.mmproj)} MB; ` +
  `${meta.steps} steps of ${meta.batch} examples${meta.kept_step ? ` (weights of step ${meta.kept_step} kept by the validation set)` : ''}, trained in ${Math.round(meta.train_seconds)} s (weights.json). ` +
  `Colour: ${2 * scenes} questions a run (start and end of ${scenes} scene clips); count: ${flashes} flash clips; ` +
  `mIoU and R@0.5: ${scenes} scene clips (text and LITA time styles). vidlm with --threads ${threads}; "ref" = the reference pipeline.`;

publish(run, {
  file: 'docs/methods.md', section: 'semantic', body, runs: 1,
  statistic: 'every held-out question once per strategy and time style (greedy, so accuracy and mIoU repeat exactly), seconds per question the mean of the run',
});
