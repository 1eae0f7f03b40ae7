/**
 * What libmtmd evaluated for each video of a conversation, from its own chunk report
 * (Context.prefillMedia): the media tokens of each video, not a formula. Each video's markers
 * become image chunks (two frames in one where the model merges pairs and nothing lies between
 * them, as in mtmd_group_mergeable_bitmaps) and audio chunks (a clip may take several), in order.
 */
import type { MediaChunkReport } from '../native.js';
import type { ReadVideo } from './read.js';

const MARK = '\u0000';

/** The media units of one video on the native path, in order: 'image' (a frame or a merged pair) or 'audio' (one clip). */
export function mediaUnits(r: Pick<ReadVideo, 'assembled' | 'plan'>): Array<'image' | 'audio'> {
  const a = r.assembled;
  if (a.kind !== 'native') return [];
  const kinds = a.frames.map((f) => ('audio' in f ? 'audio' as const : 'image' as const));
  const between = (a.content?.(MARK) ?? MARK.repeat(kinds.length)).split(MARK).slice(1, -1);
  const merge = r.plan.temporalMerge ?? 1;
  const units: Array<'image' | 'audio'> = [];
  for (let k = 0; k < kinds.length; k++) {
    units.push(kinds[k]!);
    if (kinds[k] === 'image' && merge > 1 && kinds[k + 1] === 'image' && between[k] === '') k++;
  }
  return units;
}

/** Media tokens of each video, the report's media chunks taken in order (an audio unit takes the run of audio chunks it starts, a lone clip's all of them). */
export function mediaTokensByPart(chunks: readonly MediaChunkReport[], parts: ReadonlyArray<Pick<ReadVideo, 'assembled' | 'plan'>>): number[] {
  const media = chunks.filter((c) => c.type !== 'text');
  if (parts.length === 1) return [media.reduce((n, c) => n + c.tokens, 0)];
  const units = parts.map(mediaUnits);
  const flat = units.flat();
  let i = 0, u = 0;
  return units.map((own) => {
    let n = 0;
    for (const kind of own) {
      const next = flat[++u];
      if (i < media.length) n += media[i++]!.tokens;
      // a clip longer than the encoder's window is several chunks: the run, unless another clip follows at once
      if (kind === 'audio' && next !== 'audio') while (media[i]?.type === 'audio') n += media[i++]!.tokens;
    }
    return n;
  });
}
