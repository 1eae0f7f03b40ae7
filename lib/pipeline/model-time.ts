/**
 * `timeTokens: 'model'` on the `native` strategy (the default there for the Qwen-VL family): the
 * family's own layout of a video, as its Hugging Face processor and `get_rope_index` make it
 * (lib/mrope qwenVideoParts, checked against their goldens), evaluated from cached embeddings.
 *
 * - The frames are encoded in pairs (model.encode with `pairs`: frames 2k, 2k+1 as one merged
 *   temporal step through libmtmd's encoder, an odd last frame alone), once, in the embedding cache.
 * - Qwen2-VL / Qwen2.5-VL: `<|vision_start|>`, one grid of all the pairs, `<|vision_end|>`; the grid's
 *   tokens are the pairs' embeddings one pair after another, its temporal positions k (Qwen2-VL) or
 *   ⌊(time of frame 2k − time of frame 0) · 2⌋ (Qwen2.5-VL).
 * - Qwen3-VL: per pair `<{ts:.1f} seconds><|vision_start|>`, the pair's one-step grid, `<|vision_end|>`.
 *
 * The items go through the pooled path's evaluation (context.prefill with the grids' M-RoPE positions),
 * so chats, forks and the server's KV prefixes hold them like a paper's plan. Images keep libmtmd's
 * path: an image's layout is the same in every family and equals libmtmd's (docs/methods.md).
 */
import type { FrameGrid, PlanItem, StrategyName } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { ModelInfo } from '../model-info.js';
import { mropePositions, qwenFamilyOf, qwenVideoParts, QWEN_VISION_END, QWEN_VISION_START, type QwenFamily } from '../mrope/index.js';
import type { TimeTokenMode } from '../time/encode.js';

const FAMILY_NAMES: Record<QwenFamily, string> = { qwen2vl: 'Qwen2-VL', qwen25vl: 'Qwen2.5-VL', qwen3vl: 'Qwen3-VL' };

/** The family whose layout `timeTokens: 'model'` sends on this model (null: none, the model is not of the Qwen-VL family). */
export function modelTimeFamily(info: Pick<ModelInfo, 'vision' | 'projectorType'>): QwenFamily | null {
  return info.vision ? qwenFamilyOf(info.projectorType) : null;
}

/**
 * The option alone, before any work: `'model'` needs a Qwen-VL model and the native strategy (or
 * 'auto', which takes native on these models). ERR_UNSUPPORTED otherwise, naming the option.
 */
export function checkModelTimeOption(timeTokens: TimeTokenMode | undefined, strategy: StrategyName | 'auto' | undefined, info: Pick<ModelInfo, 'vision' | 'projectorType'>): void {
  if (timeTokens !== 'model') return;
  if (!modelTimeFamily(info)) {
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' is the layout of time a Qwen2-VL, Qwen2.5-VL or Qwen3-VL model was trained with (mmproj projector qwen2vl_merger, qwen2.5vl_merger or qwen3vl_merger); this model's projector is ${info.projectorType ?? 'none'}: use 'none', 'text' or 'lita'`,
      { option: 'timeTokens', projectorType: info.projectorType });
  }
  if (strategy !== undefined && strategy !== 'auto' && strategy !== 'native') {
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' is the model's own layout of its frames: it takes the native strategy; the pooled method ${strategy} takes 'none', 'text' or 'lita'`, { option: 'timeTokens' });
  }
}

/**
 * The family whose layout a plan sends, or undefined for libmtmd's own (images, sound or subtitles
 * between the frames, `timeTokens: 'none'`). Default (timeTokens unset): the family's layout on the
 * native strategy. An explicit 'model' with sound or subtitles is ERR_UNSUPPORTED: those go between
 * the frames, which libmtmd's layout (`'none'`) does.
 */
export function planModelTime(strategy: StrategyName, info: Pick<ModelInfo, 'vision' | 'projectorType'>, timeTokens: TimeTokenMode | undefined,
  media: { isImage: boolean; audio: boolean; subtitles: boolean }): QwenFamily | undefined {
  if (timeTokens !== undefined && timeTokens !== 'model') return undefined;
  checkModelTimeOption(timeTokens, strategy, info);
  const family = modelTimeFamily(info);
  if (strategy !== 'native' || !family || media.isImage) return undefined;
  if (media.audio || media.subtitles) {
    if (timeTokens === undefined) return undefined;
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' sends ${FAMILY_NAMES[family]}'s own layout of the frames alone; with ${media.audio ? 'sound' : 'subtitles'} between the frames use timeTokens 'none' (libmtmd's layout)`,
      { option: 'timeTokens' });
  }
  return family;
}

/**
 * The family's layout of a video from its pair grids (model.encode with `pairs`, one grid per two
 * frames) and the frames' times: text items and embedding blocks with their M-RoPE positions.
 * `visual`: the embeddings (KV cells) evaluated; `positions`: the positions they take. The `<|vision_start|>` before and `<|vision_end|>`
 * after each grid are left to the render stage, which wraps every embedding block in the model's
 * image wrap: libmtmd's `<|vision_start|>` … `<|vision_end|>` on the Qwen-VL family (test/pipeline/model-time.test.ts).
 */
export function modelTimeItems(family: QwenFamily, pairs: readonly FrameGrid[], times: readonly number[]): { items: PlanItem[]; visual: number; positions: number } {
  const first = pairs[0];
  if (!first) throw new VidlmError('ERR_INVALID_ARG', 'a video needs at least one frame');
  if (pairs.length !== Math.ceil(times.length / 2)) throw new VidlmError('ERR_INVALID_ARG', `${times.length} frames make ${Math.ceil(times.length / 2)} pairs, not ${pairs.length}`);
  const { nx: w, ny: h, dim } = first;
  if (pairs.some((g) => g.nx !== w || g.ny !== h)) throw new VidlmError('ERR_INVALID_ARG', 'every frame pair of a video must have the same grid');
  const items: PlanItem[] = [];
  let next = 0, visual = 0, positions = 0;
  for (const part of qwenVideoParts(family, { times, h, w })) {
    if (part.kind === 'text') {
      const text = unwrap(part.text);
      if (text) items.push({ text });
      continue;
    }
    // a grid of part.t.length temporal steps: the next pairs' embeddings, t-major as the merger emits them
    const steps = pairs.slice(next, next + part.t.length);
    next += part.t.length;
    const count = part.t.length * h * w;
    const embeddings = steps.length === 1 ? steps[0]!.data : new Float32Array(count * dim);
    if (steps.length > 1) steps.forEach((g, k) => embeddings.set(g.data, k * h * w * dim));
    const { positions: layout, next: span } = mropePositions([part]);
    items.push({ embeddings, count, positions: layout, span });
    visual += count;
    positions += span;
  }
  return { items, visual, positions };
}

/** A text part without the vision markers the render stage's image wrap puts around each grid. */
function unwrap(text: string): string {
  const a = text.startsWith(QWEN_VISION_END) ? QWEN_VISION_END.length : 0;
  const b = text.endsWith(QWEN_VISION_START) ? text.length - QWEN_VISION_START.length : text.length;
  return text.slice(a, Math.max(a, b));
}
