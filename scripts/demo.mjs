#!/usr/bin/env node
// The built-in demo: generates the tiny random-weight models (no weights can be downloaded) and
// a short clip, then runs the vidlm CLI on them: inspect, ask and localize with LITA's SlowFast
// tokens and time tokens. Random weights answer gibberish: the demo shows the pipeline, its
// token counts and timings, not a real answer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const { tinyModels } = await import(join(root, 'dist', 'fixtures', 'tiny-models.js'));

function vidlm(...args) {
  console.log(`\n$ vidlm ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();
}

const m = await tinyModels();
console.log(`tiny models in ${dirname(m.model)}`);
const media = join(root, '.cache', 'media');
mkdirSync(media, { recursive: true });
const clip = join(media, 'demo-20s.mp4');
if (!existsSync(clip)) {
  // 20 s of a moving test pattern with a running clock burned in, H.264, 320×240 at 25 fps
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=20:size=320x240:rate=25',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
}
const pair = ['--model', m.model, '--mmproj', m.mmproj];
process.stdout.write(vidlm('version'));
process.stdout.write(vidlm('inspect', ...pair));

const show = (out) => {
  const r = JSON.parse(out);
  console.log(`answer: ${JSON.stringify(r.text)}`);
  if ('start' in r) console.log(`time span: ${r.start ?? '-'} .. ${r.end ?? '-'} s`);
  console.log(`strategy ${r.strategy}: ${r.frames.length} frames, ${r.tokens.visual} visual tokens, ${r.tokens.prompt} prompt tokens, ${r.tokens.generated} generated`);
  const t = r.timings;
  console.log(`decode ${t.decodeMs.toFixed(0)} ms, encode ${t.encodeMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, first token ${t.firstTokenMs.toFixed(1)} ms, generate ${t.generateMs.toFixed(0)} ms`);
};
show(vidlm('ask', clip, 'What happens in this video?', ...pair, '--strategy', 'slowfast', '--frames', '100', '--time-tokens', 'lita', '--max-tokens', '16', '--temp', '0', '--json'));
show(vidlm('localize', clip, 'The clock reaches ten seconds.', ...pair, '--strategy', 'slowfast', '--time-tokens', 'lita', '--max-tokens', '16', '--temp', '0', '--json'));
