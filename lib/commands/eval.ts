/**
 * `vidlm eval localize|qa --pred P.jsonl --gt G.json [--json]`: score saved answers with the
 * benchmarks' own metrics (ActivityNet-RTL for localization, Video-MME/MVBench for choices).
 */
import { parseArgs } from 'node:util';
import { readLocalizeFiles, readQaFiles } from '../eval/files.js';
import { evaluateLocalization } from '../eval/localize.js';
import { evaluateQa, type QaMatch } from '../eval/qa.js';
import type { TimeTokenMode } from '../time/encode.js';
import { runSemanticCommand, SEMANTIC_USAGE } from './eval-semantic.js';

const USAGE = `usage: vidlm eval localize --pred P.jsonl --gt G.json [--mode text|lita] [--json]
       vidlm eval qa       --pred P.jsonl --gt G.json [--match videomme|mvbench] [--json]

localize  temporal IoU per question, mIoU and Precision@0.3/0.5/0.7, averaged per video
          then over videos (ActivityNet-RTL). --mode lita reads <N> as LITA paper time tokens.
qa        multiple-choice accuracy, overall and per category; --match picks Video-MME letter
          extraction (default) or MVBench's first-word check.
semantic  the trained tiny model's held-out clips asked through the pipeline (see below).
File formats: docs/methods.md ("Evaluation").

${SEMANTIC_USAGE}`;

const pct = (x: number) => (100 * x).toFixed(2);

export async function run(args: string[]): Promise<number> {
  if (args[0] === 'semantic') return runSemanticCommand(args.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        pred: { type: 'string' },
        gt: { type: 'string' },
        json: { type: 'boolean', default: false },
        mode: { type: 'string', default: 'text' },
        match: { type: 'string', default: 'videomme' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`vidlm eval: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const [task, ...rest] = positionals;
  const usageError = (msg: string) => { process.stderr.write(`vidlm eval: ${msg}\n\n${USAGE}`); return 2; };
  if (task !== 'localize' && task !== 'qa') return usageError(task ? `unknown task '${task}'` : 'which task: localize or qa?');
  if (rest.length) return usageError(`unexpected argument '${rest[0]}'`);
  if (!values.pred || !values.gt) return usageError('--pred and --gt are required');

  if (task === 'localize') {
    const mode = values.mode as TimeTokenMode;
    if (mode !== 'text' && mode !== 'lita') return usageError(`--mode must be text or lita, got '${values.mode}'`);
    const { truth, preds } = await readLocalizeFiles(values.pred, values.gt, mode);
    const report = evaluateLocalization(truth, preds);
    if (values.json) { process.stdout.write(`${JSON.stringify({ task, ...report })}\n`); return 0; }
    const lines = [
      `localize: ${report.questions} questions over ${report.videos} videos`,
      `mIoU    ${pct(report.mIoU)}`,
      ...Object.entries(report.precision).map(([th, p]) => `P@${th}   ${pct(p)}`),
    ];
    if (report.missing.length) lines.push(`missing or unscored predictions (IoU 0): ${report.missing.length}`);
    if (report.extra.length) lines.push(`predictions not in the ground truth (ignored): ${report.extra.length}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }

  const match = values.match as QaMatch;
  if (match !== 'videomme' && match !== 'mvbench') return usageError(`--match must be videomme or mvbench, got '${values.match}'`);
  const { truth, answers } = await readQaFiles(values.pred, values.gt);
  const report = evaluateQa(truth, answers, match);
  if (values.json) { process.stdout.write(`${JSON.stringify({ task, ...report })}\n`); return 0; }
  const lines = [`qa (${match}): ${report.correct}/${report.questions} correct, accuracy ${pct(report.accuracy)}`];
  for (const [name, s] of Object.entries(report.categories)) lines.push(`  ${name}: ${s.correct}/${s.questions}, ${pct(s.accuracy)}`);
  if (report.missing.length) lines.push(`missing predictions (wrong): ${report.missing.length}`);
  if (report.extra.length) lines.push(`predictions not in the ground truth (ignored): ${report.extra.length}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
