/**
 * The whole media budget of a question before any decoding: frames, audio chunks and subtitle
 * cues, laid out as libmtmd will see them. The frames' times come from the video's timeline (the
 * same plan resolution sample() runs, no decoding); the cues are read (cheap: no picture is
 * decoded) and their prompt text tokenized; the audio chunks are counted per encoder family.
 *
 * Frames on the native path: one image chunk per frame, or per frame pair where libmtmd merges
 * pairs (the Qwen-VL family, temporalMerge 2) — only two frames side by side with nothing between
 * (an audio chunk or a cue line keeps them apart, as in mtmd_group_mergeable_bitmaps).
 */
import { mediaSteps, type MediaStep } from '../audio/media.js';
import { audioFitHint } from '../audio/suggest.js';
import { VidlmError } from '../errors.js';
import { mediaBudgetError, type MediaBudget } from './budget-error.js';

export { mediaBudgetError, type MediaBudget } from './budget-error.js';
import type { ModelInfo } from '../model-info.js';
import { stepContent, subtitleTranscript } from './assemble.js';
import { loadSubtitles, type LoadedSubtitles } from '../video/subtitles.js';
import { resolvePlan } from '../video/plans.js';
import type { SubtitleCue, VideoProbe } from '../video/types.js';
import type { VideoSource } from '../video/video.js';
import { audioSpan, type VideoPlan } from './plan.js';
import { visualTokens } from './plan.js';
import { reducedBound } from '../reduce/merge.js';

/** The side of the picture the addon tokenizes at load to learn the grid (native/load_model.cpp ProbeImageShape): the encoder's side on M-RoPE models, else 448. */
const probeSide = (info: ModelInfo): number => (info.mrope && info.imageSize && info.imageSize >= 28 && info.imageSize <= 4096 ? info.imageSize : 448);

/**
 * libmtmd's dynamic-size preprocessor (mtmd_image_preprocessor_dyn_size) with
 * set_limit_image_tokens(8, 4096): the Qwen2-VL, Qwen2.5-VL (and Qwen2.5-Omni's vision side) and
 * Qwen3-VL towers. Every other family resizes to its encoder's size (or tiles it): its count is
 * the one the addon measured at load.
 */
const DYN_SIZE = /^(qwen2vl_merger|qwen2\.5vl_merger|qwen2\.5o|qwen3vl_merger)$/;
const DYN_MIN_TOKENS = 8;
const DYN_MAX_TOKENS = 4096;

const f32 = Math.fround;

/** clip's calc_size_preserved_ratio ("smart_resize"), in float32 as libmtmd computes it. */
export function smartResize(width: number, height: number, align: number, minPixels: number, maxPixels: number): [number, number] {
  const round = (x: number): number => Math.round(f32(f32(x) / align)) * align;
  const ceil = (x: number): number => Math.ceil(f32(f32(x) / align)) * align;
  const floor = (x: number): number => Math.floor(f32(f32(x) / align)) * align;
  let w = Math.max(align, round(width));
  let h = Math.max(align, round(height));
  if (maxPixels > 0 && w * h > maxPixels) {
    const beta = f32(Math.sqrt(f32(f32(f32(height) * width) / maxPixels)));
    h = Math.max(align, floor(f32(height / beta)));
    w = Math.max(align, floor(f32(width / beta)));
  } else if (minPixels > 0 && w * h < minPixels) {
    const beta = f32(Math.sqrt(f32(f32(minPixels) / f32(f32(height) * width))));
    h = ceil(f32(height * beta));
    w = ceil(f32(width * beta));
  }
  return [w, h];
}

/** The spatial merge of a dynamic-size tower, from the grid the addon measured at load (2 for every Qwen-VL release). */
function spatialMerge(info: ModelInfo): number {
  const m = info.patchSize && info.imageGrid ? probeSide(info) / info.patchSize / info.imageGrid.nx : NaN;
  return Number.isInteger(m) && m > 0 ? m : 2;
}

/**
 * Tokens of one image chunk libmtmd makes of a `width` × `height` picture (a frame, or a merged
 * frame pair: the pair shares one grid). Dynamic-size towers: the picture aligned to patch × merge
 * within 8–4096 tokens, (w / (patch·merge)) · (h / (patch·merge)); others: the count at load.
 */
export function imageChunkTokens(info: ModelInfo, width: number, height: number): number {
  if (info.projectorType !== null && DYN_SIZE.test(info.projectorType) && info.patchSize) {
    const unit = info.patchSize * spatialMerge(info);
    const [w, h] = smartResize(width, height, unit, DYN_MIN_TOKENS * unit * unit, DYN_MAX_TOKENS * unit * unit);
    return (w / unit) * (h / unit);
  }
  if (info.tokensPerImage === null) throw new VidlmError('ERR_UNSUPPORTED', 'the model has no vision encoder');
  return info.tokensPerImage;
}

/** The picture size libmtmd gets: the plan's frame size, else the video's displayed size (still images). */
function frameSize(plan: VideoPlan, probe: VideoProbe): [number, number] {
  const s = plan.frame.size;
  if (Array.isArray(s)) return [s[0], s[1]];
  if (typeof s === 'number') return [s, s];
  return [probe.video?.displayWidth ?? 0, probe.video?.displayHeight ?? 0];
}

const MARK = '\u0000';

/**
 * Image chunks of a native layout: the user content with one MARK per step, each frame marker
 * merging with the next when the model merges pairs, both are frames and nothing lies between.
 */
export function imageChunksOf(content: string, steps: readonly MediaStep[], merge: number): number {
  const between = content.split(MARK).slice(1, -1); // text between marker k and k + 1
  let chunks = 0;
  for (let k = 0; k < steps.length; k++) {
    if (steps[k]!.kind !== 'frame') continue;
    chunks++;
    if (merge > 1 && steps[k + 1]?.kind === 'frame' && between[k] === '') k++;
  }
  return chunks;
}

/**
 * The media budget of a plan, given the frame times its sampling plan resolves to, the cues read
 * (empty without subtitles) and a token counter for text.
 */
export function mediaBudget(plan: VideoPlan, probe: VideoProbe, info: ModelInfo, frameTimes: number[], cues: SubtitleCue[],
  countText: (text: string) => number): MediaBudget {
  const span = plan.audio && probe.audio ? audioSpan(probe, plan.segment) : null;
  // null when the encoder's count is unknown (no steps without sound: 0)
  const { steps, tokens: audioTokens } = mediaSteps(frameTimes, span ? plan.audio! : null, span ?? [0, 0]);
  const audio = steps.filter((s): s is Extract<MediaStep, { kind: 'audio' }> => s.kind === 'audio');
  const frames = frameTimes.length;
  let imageChunks = frames, frameTokens = 0, cueText = '';
  if (plan.path === 'native') {
    const merge = plan.temporalMerge ?? 1;
    // the content assemble's native layout gives (without sound the steps are the frames alone)
    const content = stepContent(MARK, steps, frameTimes, cues, plan.segment, merge);
    imageChunks = imageChunksOf(content, steps, merge);
    if (frames > 0) {
      const [w, h] = frameSize(plan, probe);
      frameTokens = imageChunks * imageChunkTokens(info, w, h);
    }
    cueText = cues.length > 0 ? content : '';
  } else {
    // a fixed reduce keeps at most its bound; 'auto' at most every token (the real count comes after)
    frameTokens = frames > 0 ? reducedBound(plan.reduce ?? null, visualTokens(plan.strategy, frames, info)) : 0;
    cueText = subtitleTranscript(frameTimes, cues, plan.segment);
  }
  // libmtmd tokenizes the text between markers piece by piece
  const cueTokens = cueText ? cueText.split(MARK).reduce((n, piece) => n + (piece ? countText(piece) : 0), 0) : 0;
  const nCues = cues.filter((c) => !(plan.segment && ((c.end ?? c.start) < plan.segment[0] || c.start > plan.segment[1]))).length;
  return {
    frames, imageChunks, frameTokens,
    audioSeconds: span ? span[1] - span[0] : 0, audioChunks: audio.length, audioTokens,
    cues: nCues, cueTokens,
    total: frameTokens + (audioTokens ?? 0) + cueTokens,
  };
}

/**
 * Before any decoding: the frame times of the plan on the video's timeline (no picture decoded),
 * the subtitle cues read, and the whole media budget checked. Returns the cues read, for sample().
 */
export async function checkMediaBudget(source: VideoSource, plan: VideoPlan, info: ModelInfo, countText: (text: string) => number,
  contextSize: number, signal?: AbortSignal): Promise<{ budget: MediaBudget; subtitles?: LoadedSubtitles }> {
  const measured = await measureMediaBudget(source, plan, info, countText, signal);
  const budget = contextSize - plan.reserve, b = measured.budget;
  // with sound: the largest audio settings that fit what the frames and cues leave, with numbers
  const hint = plan.audio && b.audioChunks > 0 && b.total > budget ? audioFitHint(plan.audio, audioSpan(source.probe, plan.segment), budget - b.frameTokens - b.cueTokens) : '';
  const e = mediaBudgetError(b, budget, contextSize, plan.strategy, hint);
  if (e) throw e;
  return measured;
}

/** The media budget of a plan without judging it: the frame times resolved (no decoding) and the cues read. */
export async function measureMediaBudget(source: VideoSource, plan: VideoPlan, info: ModelInfo, countText: (text: string) => number,
  signal?: AbortSignal): Promise<{ budget: MediaBudget; subtitles?: LoadedSubtitles }> {
  const probe = source.probe;
  let times: number[] = [];
  if (!plan.audioOnly && probe.video) {
    const tl = await source.timeline(signal);
    times = resolvePlan(plan.sample, tl, probe.video.avgFps).frames.map((f) => f.t);
  }
  const subtitles = plan.subtitles !== undefined ? await loadSubtitles(source, plan.subtitles, signal) : undefined;
  const budget = mediaBudget(plan, probe, info, times, [...(subtitles?.track?.cues ?? [])], countText);
  return { budget, ...(subtitles ? { subtitles } : {}) };
}
