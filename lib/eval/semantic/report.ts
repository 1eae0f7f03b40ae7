/**
 * The semantic eval's table: vidlm's numbers per run beside those of the training script's own
 * reference pipeline on the same clip specs (python/semantic/train.py writes reference.json).
 */
import { summarize, type SemanticAnswer, type SemanticRun, type SemanticRunReport } from './run.js';
import type { SemanticTask, SemanticTimeStyle } from './tasks.js';

/** A row of reference.json: one question answered by the PyTorch model on the reference layouts. */
export interface ReferenceRow { clip: string; strategy: string; mode: SemanticTimeStyle; task: SemanticTask; answer: string; score: number; s: number; visual: number }

/** The reference pipeline's summary for `run` (same clips and tasks). */
export function referenceReport(rows: readonly ReferenceRow[], run: SemanticRun): SemanticRunReport {
  const answers: SemanticAnswer[] = rows.filter((r) => r.strategy === run.strategy && r.mode === run.timeTokens)
    .map((r) => ({ clip: r.clip, task: r.task, answer: r.answer, score: r.score, visual: r.visual, seconds: r.s }));
  return summarize(run, answers);
}

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)}`);
const iou = (x: number | null) => (x === null ? '–' : x.toFixed(2));

/** Markdown: strategy, time, frames, visual tokens, accuracies (colour at start and end, at second t, count), mIoU, R@0.5, s/question; `ref` columns when given. */
export function semanticTable(reports: readonly SemanticRunReport[], reference?: readonly ReferenceRow[]): string {
  const head = ['strategy', 'time', 'frames', 'visual tokens', 'colour %', 'colour at t %', 'count %', 'mIoU', 'R@0.5 %', 's/question'];
  const refHead = ['ref colour %', 'ref colour at t %', 'ref count %', 'ref mIoU', 'ref R@0.5 %'];
  const lines = [`| ${[...head, ...(reference ? refHead : [])].join(' | ')} |`, `|${' --- |'.repeat(head.length + (reference ? refHead.length : 0))}`];
  for (const r of reports) {
    const cells = [r.strategy, r.timeTokens, String(r.frames), String(r.visual), pct(r.colour), pct(r.colourAt), pct(r.count), iou(r.mIoU), pct(r.r05), r.secondsPerQuestion.toFixed(2)];
    if (reference) {
      const f = referenceReport(reference, r);
      cells.push(pct(f.colour), pct(f.colourAt), pct(f.count), iou(f.mIoU), pct(f.r05));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
