/**
 * `vidlm watch <source> --model M --mmproj P (--prompt TEXT | --when EVENT) [...]`: answers
 * every few seconds about a live stream or a file. One line per answer (JSONL with --json), a
 * live status line on a terminal, Ctrl-C stops cleanly. --plan prints the speed estimate.
 */
import { REDUCE_USAGE, reduceFlag, reduceFlags } from '../reduce/cli.js';
import { parseArgs } from 'node:util';
import { loadModel } from '../model.js';
import type { TimeTokenMode } from '../time/encode.js';
import type { FpsRule } from '../video/types.js';
import { planWatch, type WindowCost } from '../watch/plan.js';
import type { WatchItem, WatchOptions } from '../watch/types.js';
import { watch } from '../watch/watch.js';
import { answerFlags, answerOptions, num, soundFlags, soundOptions, withSoundValues } from '../cli-flags.js';
import { threadFlags, threadValues } from '../threads/flags.js';

const options = {
  model: { type: 'string', short: 'm' },
  mmproj: { type: 'string' },
  prompt: { type: 'string', short: 'p' },
  when: { type: 'string' },
  localize: { type: 'boolean' },
  cooldown: { type: 'string' },
  every: { type: 'string' },
  window: { type: 'string' },
  frames: { type: 'string', short: 'f' },
  fps: { type: 'string' },
  'fps-rule': { type: 'string' },
  strategy: { type: 'string', short: 's' },
  'time-tokens': { type: 'string' },
  ...soundFlags,
  ...reduceFlags,
  'no-realtime': { type: 'boolean' },
  live: { type: 'boolean' },
  timeout: { type: 'string' },
  system: { type: 'string' },
  ...answerFlags,
  ...threadFlags,
  json: { type: 'boolean' },
  plan: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `usage: vidlm watch <file-or-stream-url> --model M.gguf --mmproj P.gguf (--prompt TEXT | --when EVENT)
  [--every S] [--window S] [--frames N | --fps F] [--fps-rule time|step|ffmpeg] [--strategy auto|concat|slowfast|pllava|bilinear|vcgpt|native]
  [--localize] [--cooldown N] [--time-tokens none|text|lita|model] [--no-realtime] [--live] [--timeout S]
  [--audio [interleave|prefix]] [--audio-window S] [--audio-length real|padded] [--subtitles [LANG|FILE.srt]] ${REDUCE_USAGE}
  [--system TEXT] [--max-tokens N] [--temp T] [--seed S] [--threads N|auto] [--poll 0-100|auto] [--ctx-size N] [--json] [--plan]
`;


const s1 = (x: number) => x.toFixed(1);

function printPlan(p: Awaited<ReturnType<typeof planWatch>>): void {
  const { speeds, cost } = p;
  const row = (c: WindowCost) => `${String(c.every).padStart(6)} ${String(c.window).padStart(7)} ${String(c.fps).padStart(5)} ${String(c.newFrames).padStart(6)} ${String(c.visualTokens).padStart(7)} ${s1(c.totalMs / 1000).padStart(8)} ${c.realTimeFactor.toFixed(2).padStart(6)}  ${c.keepsUp ? 'yes' : 'no'}`;
  process.stdout.write(`measured on this machine: encode ${s1(speeds.encodeMsPerFrame)} ms/frame, prefill ${s1(speeds.prefillTokensPerSecond)} tok/s, generate ${s1(speeds.generateTokensPerSecond)} tok/s
per window (${p.strategy}): encode ${s1(cost.encodeMs)} ms (${cost.newFrames} new frames) + prefill ${s1(cost.prefillMs)} ms (${cost.visualTokens + cost.promptTokens} tokens) + generate ${s1(cost.generateMs)} ms (${cost.answerTokens} tokens) = ${s1(cost.totalMs / 1000)} s
every ${cost.every} s: ${cost.keepsUp ? `keeps up (real-time factor ${cost.realTimeFactor.toFixed(2)})` : `falls behind: about ${Math.ceil(1 / cost.realTimeFactor) - 1} of every ${Math.ceil(1 / cost.realTimeFactor)} windows will be skipped; raise --every to ${Math.ceil(cost.totalMs / 1000)} s or lower --fps / --max-tokens`}

 every  window   fps    new  visual  window_s    rtf  keeps up
${p.table.map(row).join('\n')}
`);
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: withSoundValues(args), options, allowPositionals: true });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  if (positionals.length !== 1 || !values.model || !values.mmproj) {
    process.stderr.write(`vidlm: ERR_INVALID_ARG: watch needs a source, --model and --mmproj\n${USAGE}`);
    return 2;
  }
  const source = positionals[0]!;
  const reduce = reduceFlag(values.reduce); // checked before the model loads
  const model = await loadModel({ model: values.model, mmproj: values.mmproj, ...threadValues(values) });
  const ac = new AbortController();
  try {
    const answer = answerOptions(values);
    const opts: WatchOptions = {
      model, prompt: values.prompt, when: values.when, localize: values.localize, cooldown: num('cooldown', values.cooldown),
      every: num('every', values.every), window: num('window', values.window), frames: num('frames', values.frames), fps: num('fps', values.fps),
      ...(values['fps-rule'] !== undefined ? { fpsRule: values['fps-rule'] as FpsRule } : {}),
      strategy: values.strategy as WatchOptions['strategy'], timeTokens: values['time-tokens'] as TimeTokenMode | undefined,
      ...soundOptions(values),
      ...(reduce !== undefined ? { reduce } : {}),
      realtime: !values['no-realtime'], live: values.live, timeout: num('timeout', values.timeout), system: values.system,
      ...answer, maxTokens: answer.maxTokens ?? 64, signal: ac.signal,
    };
    if (values.plan) { printPlan(await planWatch(source, opts)); return 0; }
    const w = watch(source, opts);
    const tty = process.stderr.isTTY === true;
    let status = '';
    const clear = () => { if (status) { process.stderr.write('\r' + ' '.repeat(status.length) + '\r'); status = ''; } };
    const draw = () => {
      const s = w.stats;
      clear();
      status = `stream ${s1(s.streamTime)} s | lag ${s1(s.lagMs / 1000)} s | skipped ${s.skipped} | ${s1(s.tokensPerSecond)} tok/s | windows ${s.windows}`;
      process.stderr.write(status);
    };
    const timer = tty ? setInterval(draw, 250) : null;
    let interrupted = 0;
    const onSigint = () => {
      // first Ctrl-C (or SIGTERM: docker stop, systemd): stop cleanly, the answer in progress cancelled; second: give up at once
      if (++interrupted > 1) process.exit(130);
      void w.stop();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    // a reader that went away (| head) ends the watch like Ctrl-C does
    const onPipe = (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') void w.stop(); };
    process.stdout.on('error', onPipe);
    try {
      for await (const item of w) {
        if (tty) clear();
        print(item, values.json === true);
        if (tty) draw();
      }
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      process.stdout.off('error', onPipe);
      if (timer) clearInterval(timer);
      if (tty) { clear(); }
    }
    if (interrupted) process.stderr.write(`vidlm: stopped after ${w.stats.windows} windows (${w.stats.skipped} skipped)\n`);
    return 0;
  } finally {
    model.dispose();
  }
}

function print(item: WatchItem, json: boolean): void {
  if (process.stdout.destroyed) return;
  if (json) {
    process.stdout.write(JSON.stringify(item) + '\n');
    return;
  }
  switch (item.type) {
    case 'window':
      process.stdout.write(`[${s1(item.windowStart)}–${s1(item.windowEnd)} s] ${item.text.trim()}\n`);
      break;
    case 'event':
      process.stdout.write(`EVENT ${s1(item.start)}–${s1(item.end)} s${item.localized ? ' (localized)' : ''}\n`);
      break;
    case 'reconnect':
      process.stderr.write(`vidlm: reconnected (connection ${item.connection}, ${s1(item.gap)} s gap${item.reason ? `: ${item.reason}` : ''})\n`);
      break;
    case 'discontinuity':
      process.stderr.write(`vidlm: the stream's clock jumped (${s1(item.streamFrom)} → ${s1(item.streamTo)} s): the watch goes on at ${s1(item.at)} s\n`);
      break;
    case 'warning':
      process.stderr.write(`vidlm: ${item.message}\n`);
      break;
  }
}
