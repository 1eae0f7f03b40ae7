/**
 * `vidlm ask <image-or-video> <question> --model M --mmproj P [...]`,
 * `vidlm localize <video> <query> ...` and `vidlm describe <video> [--prompt TEXT] ...`: one
 * question, answer streamed or as JSON.
 */
import { parseArgs } from 'node:util';
import { ask, describe, localize, type AskResult, type VideoQueryOptions } from '../api/query.js';
import type { StrategyChoice } from '../pipeline/plan.js';
import { loadModel } from '../model.js';
import type { TimeTokenMode } from '../time/encode.js';
import type { FpsRule } from '../video/types.js';
import { answerFlags, answerOptions, num, soundFlags, soundOptions, withSoundValues } from '../cli-flags.js';
import { threadFlags, threadValues } from '../threads/flags.js';
import { REDUCE_USAGE, reduceFlag, reduceFlags } from '../reduce/cli.js';

const options = {
  model: { type: 'string', short: 'm' },
  mmproj: { type: 'string' },
  strategy: { type: 'string', short: 's' },
  frames: { type: 'string', short: 'f' },
  fps: { type: 'string' },
  'fps-rule': { type: 'string' },
  'time-tokens': { type: 'string' },
  preamble: { type: 'boolean' },
  system: { type: 'string' },
  prompt: { type: 'string', short: 'p' },
  ...soundFlags,
  ...reduceFlags,
  ...answerFlags,
  ...threadFlags,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Command = 'ask' | 'localize' | 'describe';

function usage(cmd: Command): string {
  const what = cmd === 'localize' ? '<video> <event>' : cmd === 'describe' ? '<image-or-video> [--prompt TEXT]' : '<image-or-video> <question>';
  return `usage: vidlm ${cmd} ${what} --model M.gguf --mmproj P.gguf
  [--strategy auto|concat|slowfast|pllava|bilinear|vcgpt|native] [--frames N | --fps F [--fps-rule time|step|ffmpeg]]
  [--time-tokens none|text|lita|model] [--preamble] [--system TEXT] [--subtitles [LANG|FILE.srt]]
  [--audio [interleave|prefix]] [--audio-window S] [--audio-length real|padded] ${REDUCE_USAGE}
  [--max-tokens N] [--temp T] [--seed S] [--threads N|auto] [--poll 0-100|auto] [--ctx-size N] [--json]\n`;
}


export async function runQuery(cmd: Command, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: withSoundValues(args), options, allowPositionals: true });
  if (values.help) { process.stdout.write(usage(cmd)); return 0; }
  const wanted = cmd === 'describe' ? 1 : 2;
  if (positionals.length !== wanted || !values.model || !values.mmproj || (values.prompt !== undefined && cmd !== 'describe')) {
    const what = cmd === 'describe' ? 'a file (and --prompt to replace the default instruction)' : `a file, a ${cmd === 'ask' ? 'question' : 'query'}`;
    process.stderr.write(`vidlm: ERR_INVALID_ARG: ${cmd} needs ${what}, --model and --mmproj\n${usage(cmd)}`);
    return 2;
  }
  const [input, text] = positionals as [string, string];
  const tty = process.stderr.isTTY && !values.json;
  const reduce = reduceFlag(values.reduce); // checked before the model loads
  const model = await loadModel({ model: values.model, mmproj: values.mmproj, ...threadValues(values) });
  try {
    const opts: VideoQueryOptions = {
      model,
      strategy: values.strategy as StrategyChoice | undefined,
      frames: num('frames', values.frames),
      fps: num('fps', values.fps),
      fpsRule: values['fps-rule'] as FpsRule | undefined,
      timeTokens: values['time-tokens'] as TimeTokenMode | undefined,
      preamble: values.preamble,
      system: values.system,
      ...soundOptions(values),
      reduce,
      ...answerOptions(values),
      onToken: values.json ? undefined : (piece) => process.stdout.write(piece),
      onProgress: tty ? ({ stage, fraction }) => { if (stage !== 'generate') process.stderr.write(`\r${stage} ${Math.round(fraction * 100)}%   `); } : undefined,
    };
    const r: AskResult & { start?: number | null; end?: number | null } = cmd === 'ask' ? await ask(input, text, opts)
      : cmd === 'describe' ? await describe(input, { ...opts, prompt: values.prompt }) : await localize(input, text, opts);
    if (tty) process.stderr.write('\r                    \r');
    if (values.json) {
      process.stdout.write(JSON.stringify({
        text: r.text,
        ...(cmd === 'localize' ? { start: r.start, end: r.end } : {}),
        strategy: r.strategy,
        tokens: r.tokens,
        timings: r.timings,
        frames: r.frames,
        ...(r.reduced ? { reduced: r.reduced } : {}),
        ...(r.warning ? { warning: r.warning } : {}),
      }) + '\n');
    } else {
      process.stdout.write('\n');
      if (cmd === 'localize') process.stdout.write(r.start == null || r.end == null ? 'no time span in the answer\n' : `${r.start.toFixed(2)} ${r.end.toFixed(2)}\n`);
      if (r.warning) process.stderr.write(`vidlm: ${r.warning}\n`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}

export function run(args: string[]): Promise<number> {
  return runQuery('ask', args);
}
