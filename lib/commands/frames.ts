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
                    [--size WxH] [--fit stretch|pad|crop] [--rule RULE] [--segment START,END]
                    [--format png|rgb24] [--json]

  --frames N     N frames by a uniform index rule (--rule linspace | middle | round | vcgpt | start)
  --fps F        F frames per second (--rule time | step | ffmpeg)
  --lita T       LITA's T frames (round(linspace(0, n-1, T)))
  --times a,b,c  the frames at these seconds
Files are named frame-<index>.png; --json prints [{ index, t, file }].
--format rgb24 --out -  writes the frames' raw RGB24 bytes to stdout, one after another (like
               ffmpeg's -f rawvideo -pix_fmt rgb24 pipe:1); the frame list goes to stderr with --json.
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
      out: { type: 'string', short: 'o' }, json: { type: 'boolean' }, format: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
  const format = values.format ?? 'png';
  if (format !== 'png' && format !== 'rgb24') throw new VidlmError('ERR_INVALID_ARG', `--format must be png or rgb24, got '${format}'`);
  const toStdout = values.out === '-';
  if (toStdout !== (format === 'rgb24')) throw new VidlmError('ERR_INVALID_ARG', '--format rgb24 goes with --out - (stdout), and --out - with --format rgb24');
  const options = { ...(values.size ? { size: values.size } : {}), ...(values.fit ? { fit: values.fit as FitMode } : {}) };
  const video = await openVideo(positionals[0]!, values.timeout ? { timeout: num('timeout', values.timeout) } : {});
  try {
    if (!toStdout) await mkdir(values.out, { recursive: true });
    const rows: Array<{ index: number; t: number; file: string }> = [];
    const written = new Set<number>();
    // one frame at a time: a long plan never holds every picture in memory
    for await (const f of video.frames(plan, options)) {
      const file = toStdout ? '-' : join(values.out, `frame-${String(f.index).padStart(6, '0')}.png`);
      if (toStdout) await writeStdout(f.rgb);
      else if (!written.has(f.index)) { await writeFile(file, await encodePng(f)); written.add(f.index); }
      rows.push({ index: f.index, t: Math.round(f.t * 1e6) / 1e6, file });
    }
    const warning = video.lastWarning;
    if (warning) process.stderr.write(`vidlm: warning: ${warning}\n`);
    const list = toStdout ? process.stderr : process.stdout;
    if (values.json) list.write(JSON.stringify(rows, null, 2) + '\n');
    else if (!toStdout) for (const r of rows) process.stdout.write(`${r.index}\t${r.t.toFixed(3)}\t${r.file}\n`);
    return 0;
  } finally {
    await video.close();
  }
}

function writeStdout(b: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => { process.stdout.write(b, (e) => (e ? reject(e) : resolve())); });
}
