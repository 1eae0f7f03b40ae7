/**
 * Runs the semantic eval through vidlm's real pipeline (`ask`: decode, sample, encode, assemble,
 * render, prefill, greedy generation) on held-out video files, and scores the answers.
 */
import { ask } from '../../api/query.js';
import type { Model } from '../../model.js';
import type { PooledStrategyName } from '../../assembly/types.js';
import { questionFor, scoreAnswer, tasksFor, timeOptions, type SemanticClip, type SemanticTask, type SemanticTimeStyle } from './tasks.js';

/** One configuration: a strategy, its frame count and a time style. */
export interface SemanticRun {
  strategy: PooledStrategyName;
  frames: number;
  /** vidlm's time tokens, or `qwen`: Qwen3-VL's `<12.5 seconds>` text (tasks.ts, timeOptions). */
  timeTokens: SemanticTimeStyle;
}

export interface SemanticAnswer {
  clip: string;
  task: SemanticTask;
  answer: string;
  /** 1/0 for colour and count, temporal IoU for when. */
  score: number;
  visual: number;
  seconds: number;
}

export interface SemanticRunReport extends SemanticRun {
  questions: number;
  /** Visual tokens per question (the same for every clip of a run). */
  visual: number;
  /** Accuracy of colour (start and end), colour at second t, count; localization mIoU and R@0.5; null when not asked. */
  colour: number | null;
  colourAt: number | null;
  count: number | null;
  mIoU: number | null;
  r05: number | null;
  secondsPerQuestion: number;
  answers: SemanticAnswer[];
}

/** Frames per question of the eval (and of the reference pipeline: python/semantic/data.py EVAL_FRAMES). */
export const EVAL_FRAMES: Readonly<Record<PooledStrategyName, number>> = { concat: 4, slowfast: 16, pllava: 8, bilinear: 8, vcgpt: 16 };
export const EVAL_STRATEGIES: readonly PooledStrategyName[] = ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'];
/** The styles of the default runs; `qwen` is asked on request (--time-tokens qwen): the committed model is not trained on it. */
export const TIME_STYLES: readonly SemanticTimeStyle[] = ['none', 'text', 'lita'];
export const ALL_TIME_STYLES: readonly SemanticTimeStyle[] = [...TIME_STYLES, 'qwen'];

export function defaultRuns(strategies: readonly PooledStrategyName[] = EVAL_STRATEGIES, styles: readonly SemanticTimeStyle[] = TIME_STYLES): SemanticRun[] {
  return strategies.flatMap((strategy) => styles.map((timeTokens) => ({ strategy, frames: EVAL_FRAMES[strategy], timeTokens })));
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summarize(run: SemanticRun, answers: SemanticAnswer[]): SemanticRunReport {
  const of = (tasks: SemanticTask[]) => answers.filter((a) => tasks.includes(a.task)).map((a) => a.score);
  const when = of(['when']);
  return {
    ...run, questions: answers.length, visual: answers[0]?.visual ?? 0,
    colour: mean(of(['start', 'end'])), colourAt: mean(of(['at'])), count: mean(of(['count'])),
    mIoU: mean(when), r05: mean(when.map((x) => (x >= 0.5 ? 1 : 0))),
    secondsPerQuestion: mean(answers.map((a) => a.seconds)) ?? 0, answers,
  };
}

/** Asks every task of every clip for one run; `clips` carry their video file. */
export async function runSemantic(model: Model, clips: ReadonlyArray<SemanticClip & { file: string }>, run: SemanticRun,
  opts: { signal?: AbortSignal; onAnswer?: (a: SemanticAnswer) => void; tasks?: readonly SemanticTask[] } = {}): Promise<SemanticRunReport> {
  const answers: SemanticAnswer[] = [];
  for (const clip of clips) {
    for (const task of tasksFor(clip, run.timeTokens).filter((k) => !opts.tasks || opts.tasks.includes(k))) {
      const t0 = performance.now();
      const r = await ask(clip.file, questionFor(clip, task, run.timeTokens), {
        model, strategy: run.strategy, frames: run.frames, ...timeOptions(run.timeTokens), temperature: 0, maxTokens: 24, signal: opts.signal,
      });
      const a: SemanticAnswer = { clip: clip.id, task, answer: r.text, score: scoreAnswer(clip, task, r.text, run.timeTokens), visual: r.tokens.visual, seconds: (performance.now() - t0) / 1000 };
      answers.push(a);
      opts.onAnswer?.(a);
    }
  }
  return summarize(run, answers);
}
