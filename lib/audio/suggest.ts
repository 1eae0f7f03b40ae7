/**
 * When the sound does not fit: the largest setting that does, with its numbers, for the budget
 * error. Tried in the order a user would change them: real-length audio (when padded), a longer
 * window (padded: fewer 30-s chunks), the prefix layout, then a shorter span of sound.
 */
import { audioPlanTokens, mediaOrder, type CheckedAudio } from './media.js';

function tokensOf(a: CheckedAudio, span: [number, number], mode = a.mode, window = a.window): number | null {
  return audioPlanTokens(a, mediaOrder([], span, mode, window));
}

/** The longest sound from span[0] that fits in `budget` with this setting (0.1 s steps), or 0. */
function longestFitting(a: CheckedAudio, span: [number, number], budget: number): number {
  let lo = 0, hi = Math.floor((span[1] - span[0]) * 10);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const k = tokensOf(a, [span[0], span[0] + mid / 10]);
    if (k !== null && k <= budget) lo = mid; else hi = mid - 1;
  }
  return lo / 10;
}

/** A sentence naming the largest settings that fit `budget` audio tokens, or '' when the count is unknown. */
export function audioFitHint(a: CheckedAudio, span: [number, number], budget: number): string {
  if (tokensOf(a, span) === null) return '';
  const tips: string[] = [];
  if (a.length === 'padded') {
    const real: CheckedAudio = { ...a, length: 'real' };
    const k = tokensOf(real, span);
    if (k !== null && k <= budget) tips.push(`audioLength: 'real' fits (${k} tokens)`);
    if (a.mode === 'interleave') {
      const chunks = Math.floor(budget / 750);
      const seconds = span[1] - span[0];
      // n windows of under 30 s each cost n chunks: the shortest window with at most `chunks` of them
      const w = chunks > 0 ? Math.ceil((seconds / chunks) * 10) / 10 : Infinity;
      const kw = w < 30 ? tokensOf(a, span, 'interleave', w) : null;
      if (kw !== null && kw <= budget) tips.push(`audioWindow: ${w} fits (${kw} tokens)`);
    }
  }
  if (a.mode === 'interleave') {
    const kp = tokensOf(a, span, 'prefix');
    if (kp !== null && kp <= budget && kp < (tokensOf(a, span) ?? Infinity)) tips.push(`audio: 'prefix' fits (${kp} tokens)`);
  }
  const s = longestFitting(a, span, budget);
  if (s > 0) tips.push(`at most ${s} s of this sound fits (segment [${span[0]}, ${Math.round((span[0] + s) * 10) / 10}])`);
  return tips.length > 0 ? `${tips.join('; ')}; ` : '';
}
