/**
 * `vidlm eval semantic --model M --mmproj P --clips clips.json`: asks the held-out clips' questions
 * through the real pipeline per strategy and time style, and prints accuracy per task, localization
 * mIoU and R@0.5 and seconds per question (with --reference, beside the training script's own).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PooledStrategyName } from '../assembly/types.js';
import { num } from '../cli-flags.js';
import { ALL_TIME_STYLES, defaultRuns, EVAL_STRATEGIES, runSemantic, TIME_STYLES, type SemanticRunReport } from '../eval/semantic/run.js';
import { semanticTable, type ReferenceRow } from '../eval/semantic/report.js';
import type { SemanticClip, SemanticTimeStyle } from '../eval/semantic/tasks.js';
import { loadModel } from '../model.js';

export const SEMANTIC_USAGE = `usage: vidlm eval semantic --model M.gguf --mmproj P.gguf --clips clips.json
       [--strategy concat,slowfast,pllava,bilinear,vcgpt] [--time-tokens none,text,lita (default), qwen]
       [--frames N] [--limit N] [--reference reference.json] [--threads N] [--json]
clips.json: [{ id, kind, duration, segments, object, flashes, at, file }] (the trained model's held-out
clips; \`node dist/fixtures/semantic/build.js\` writes them with the model). qwen: Qwen3-VL's
\`<12.5 seconds>\` before every frame (the API's timeTokens 'text' with timeFormat '<{t:1} seconds>').
`;

function list<T extends string>(value: string | undefined, all: readonly T[], what: string): T[] {
  if (!value) return [...all];
  const xs = value.split(',').map((s) => s.trim()) as T[];
  const bad = xs.find((x) => !all.includes(x));
  if (bad) throw new Error(`unknown ${what} '${bad}' (one of ${all.join(', ')})`);
  return xs;
}

export async function runSemanticCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, allowPositionals: false,
    options: {
      model: { type: 'string' }, mmproj: { type: 'string' }, clips: { type: 'string' }, strategy: { type: 'string' },
      'time-tokens': { type: 'string' }, frames: { type: 'string' }, limit: { type: 'string' }, reference: { type: 'string' },
      threads: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.mmproj || !values.clips) {
    process.stderr.write(`vidlm eval: --model, --mmproj and --clips are required\n\n${SEMANTIC_USAGE}`);
    return 2;
  }
  let strategies: PooledStrategyName[], styles: SemanticTimeStyle[];
  try {
    strategies = list(values.strategy, EVAL_STRATEGIES, 'strategy');
    styles = values['time-tokens'] ? list(values['time-tokens'], ALL_TIME_STYLES, 'time style') : [...TIME_STYLES];
  } catch (e) {
    process.stderr.write(`vidlm eval: ${(e as Error).message}\n`);
    return 2;
  }
  const base = dirname(resolve(values.clips));
  const clips = (JSON.parse(await readFile(values.clips, 'utf8')) as Array<SemanticClip & { file: string }>)
    .map((c) => ({ ...c, file: resolve(base, c.file) }))
    .slice(0, num('limit', values.limit) ?? Infinity);
  const frames = num('frames', values.frames);
  const reference = values.reference ? (JSON.parse(await readFile(values.reference, 'utf8')) as { rows: ReferenceRow[] }).rows : undefined;
  const model = await loadModel({ model: values.model, mmproj: values.mmproj, threads: num('threads', values.threads) });
  try {
    const reports: SemanticRunReport[] = [];
    for (const run of defaultRuns(strategies, styles)) {
      reports.push(await runSemantic(model, clips, frames ? { ...run, frames } : run));
      if (!values.json) process.stderr.write(`${run.strategy} ${run.timeTokens}: done\n`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ task: 'semantic', runs: reports })}\n`);
    else process.stdout.write(semanticTable(reports, reference));
    return 0;
  } finally {
    model.dispose();
  }
}


