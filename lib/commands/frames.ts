/**
 * `vidlm frames <media> (--frames N | --fps F | --lita T | --times a,b,c) [--size WxH] --out DIR [--json]`:
 * writes the sampled frames as PNG files named by frame index.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VidlmError } from '../errors.js';
import { encodePng, openVideo } from '../video/index.js';
import type { FitMode, SamplePlan, UniformRule } from '../video/types.js';

const USAGE = `usage: vidlm frames <media> (--frames N | --fps F | --lita T | --times a,b,c) --out DIR
                    [--size WxH] [--fit stretch|pad|crop] [--rule RULE] [--segment START,END] [--json]

  --frames N     N frames by a uniform index rule (--rule linspace | middle | round | vcgpt | start)
  --fps F        F frames per second (--rule time | step | ffmpeg)
  --lita T       LITA's T frames (round(linspace(0, n-1, T)))
  --times a,b,c  the frames at these seconds
Files are named frame-<index>.png; --json prints [{ index, t, file }].
`;

function num(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new VidlmError('ERR_INVALID_ARG', `--${name} needs a number, got '${v}'`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      frames: { type: 'string' }, fps: { type: 'string' }, lita: { type: 'string' }, times: { type: 'string' },
      rule: { type: 'string' }, segment: { type: 'string' }, size: { type: 'string' }, fit: { type: 'string' },
      out: { type: 'string', short: 'o' }, json: { type: 'boolean' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const chosen = (['frames', 'fps', 'lita', 'times'] as const).filter((k) => values[k] !== undefined);
  if (positionals.length !== 1 || chosen.length !== 1 || !values.out) { process.stderr.write(USAGE); return 2; }
  let plan: SamplePlan;
  if (values.frames !== undefined) plan = { uniform: num('frames', values.frames), ...(values.rule ? { rule: values.rule as UniformRule } : {}) };
  else if (values.fps !== undefined) plan = { fps: num('fps', values.fps), ...(values.rule ? { rule: values.rule as 'time' | 'step' | 'ffmpeg' } : {}) };
  else if (values.lita !== undefined) plan = { lita: num('lita', values.lita) };
  else plan = { times: values.times!.split(',').map((x) => num('times', x)) };
  if (values.segment) {
    const s = values.segment.split(',').map((x) => num('segment', x));
    if (s.length !== 2) throw new VidlmError('ERR_INVALID_ARG', '--segment needs START,END');
    plan.segment = [s[0]!, s[1]!];
  }
  const video = await openVideo(positionals[0]!, values.timeout ? { timeout: num('timeout', values.timeout) } : {});
  try {
    await mkdir(values.out, { recursive: true });
    const rows: Array<{ index: number; t: number; file: string }> = [];
    const written = new Set<number>();
    const frames = await video.sample(plan, { ...(values.size ? { size: values.size } : {}), ...(values.fit ? { fit: values.fit as FitMode } : {}) });
    for (const f of frames) {
      const file = join(values.out, `frame-${String(f.index).padStart(6, '0')}.png`);
      if (!written.has(f.index)) { await writeFile(file, await encodePng(f)); written.add(f.index); }
      rows.push({ index: f.index, t: Math.round(f.t * 1e6) / 1e6, file });
    }
    if (frames.warning) process.stderr.write(`vidlm: warning: ${frames.warning}\n`);
    if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else for (const r of rows) process.stdout.write(`${r.index}\t${r.t.toFixed(3)}\t${r.file}\n`);
    return 0;
  } finally {
    await video.close();
  }
}
