/** `vidlm info <media> [--json] [--timeout S]`: what a video, image or audio file contains. */
import { parseArgs } from 'node:util';
import { probeVideo } from '../video/index.js';
import type { VideoProbe } from '../video/types.js';

const USAGE = `usage: vidlm info <media> [--json] [--timeout SECONDS]

Prints duration, frame rates, frame count, size, rotation, pixel aspect, codec, bit depth,
variable frame rate, the audio stream and the subtitle tracks (codec, language) of a file, URL or image.
`;

function fmt(p: VideoProbe): string {
  const lines = [`${p.source}`, `  format      ${p.format}${p.isImage ? ' (still image)' : ''}${p.isLive ? ' (live)' : ''}`, `  duration    ${p.duration.toFixed(3)} s`];
  const v = p.video;
  if (v) {
    lines.push(
      `  video       ${v.codec}${v.profile ? ` (${v.profile})` : ''}, ${v.pixelFormat}, ${v.bitDepth}-bit`,
      `  size        ${v.width}x${v.height} stored, ${v.displayWidth}x${v.displayHeight} displayed (rotation ${v.rotation}°, pixel aspect ${v.pixelAspect.join(':')})`,
      `  frame rate  ${v.avgFps.toFixed(3)} average, ${v.realFps.toFixed(3)} real${v.vfr ? ', variable' : ''}`,
      `  frames      ${v.frameCount ?? 'unknown'}`,
    );
  } else lines.push('  video       none');
  const a = p.audio;
  lines.push(a ? `  audio       ${a.codec}, ${a.sampleRate} Hz, ${a.channels} channel(s) (${a.channelLayout})` : '  audio       none');
  if (p.subtitles.length === 0) lines.push('  subtitles   none');
  for (const s of p.subtitles) {
    lines.push(`  subtitles   #${s.streamIndex} ${s.codec}, ${s.language ?? 'no language'}${s.title ? ` "${s.title}"` : ''}${s.isDefault ? ' (default)' : ''}`);
  }
  return lines.join('\n') + '\n';
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  if (positionals.length !== 1) { process.stderr.write(USAGE); return 2; }
  const probe = await probeVideo(positionals[0]!, values.timeout ? { timeout: Number(values.timeout) } : {});
  process.stdout.write(values.json ? JSON.stringify(probe, null, 2) + '\n' : fmt(probe));
  return 0;
}
