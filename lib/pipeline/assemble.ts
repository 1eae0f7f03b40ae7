/**
 * Stage 3, assemble: the video's part of the user turn.
 * - pooled: a paper's method (lib/assembly) turns the grids into text and embedding items, time
 *   tokens included, and places the question the way the method was trained (Video-ChatGPT first).
 * - media (strategy 'native'): the frames stay media, one marker each; libmtmd places them.
 * With the sampled video's timeline: subtitle cues after the marker of their frame (native) or as a
 * timed transcript before the question (pooled), and audio chunks among the frames in time order
 * (native: media of their own; pooled: audio items between the frame blocks, with time markers).
 * The pieces of the turn that only this stage places are here too: the audio chunks' slots among
 * the pooled blocks, the user turn in each method's placement with LLaVA-Video's time instruction,
 * and the Qwen-VL family's own layout of time (`timeTokens: 'model'`, decided by plan.ts).
 */
import { assembleWithSlots, isSlotItem } from '../assembly/index.js';
import type { TimeSlot } from '../assembly/plan.js';
import type { FrameGrid, PlanItem, PooledStrategyName, TextItem } from '../assembly/types.js';
import type { AudioMedia, MediaAudio, MediaStep } from '../audio/media.js';
import { VidlmError } from '../errors.js';
import type { AudioItem } from '../inference/context.js';
import type { EncodableFrame, EncodeStats, MediaInput } from '../inference/encode.js';
import { qwenVideoLayout, QWEN_VISION_END, QWEN_VISION_START, type QwenFamily } from '../mrope/index.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import { formatFixed } from '../time/round.js';
import type { SubtitleCue } from '../video/types.js';
import { mergeOf } from '../reduce/pipeline.js';
import type { ReduceSpec } from '../reduce/option.js';
import type { VideoPlan } from './plan.js';

/**
 * What the encode stage (read.ts) gives: one grid of visual tokens per frame (pooled; the model's
 * own time: per frame pair), or the frames left for libmtmd to encode inside the prefill.
 */
export type Encoded =
  | { kind: 'grids'; grids: FrameGrid[]; ms: number; stats?: EncodeStats }
  | { kind: 'native'; frames: readonly EncodableFrame[] };

/** A pooled video: text and embedding items, and the audio clips libmtmd evaluates among them. */
export type VideoItems = Array<PlanItem | AudioItem>;

export type Assembled =
  | {
    kind: 'items';
    /** The video's items; `visual` of their tokens are pooled frame embeddings (audio clips not counted: libmtmd encodes them in the prefill). */
    items: VideoItems;
    visual: number;
    /** The timed subtitle transcript before the question ('' without cues). */
    transcript: string;
    /** The whole user turn with `question` in the method's place. */
    userTurn: (question: string) => VideoItems;
    /**
     * The native strategy on the model's own time: KV cells the video takes beyond its positions. Its
     * prompt tokens are counted in positions, as on libmtmd's path (README: tokens.prompt).
     */
    surplus?: number;
  }
  | {
    kind: 'native';
    /** Frames and audio clips in the order they are evaluated, one media marker each. */
    frames: readonly MediaInput[];
    /** The user content around the markers (subtitle cues); default: the markers alone. */
    content?: (marker: string) => string;
  };

/** What the sample stage read besides the frames (SampledVideo's audio and cues). */
export interface SampledExtras {
  cues?: readonly SubtitleCue[];
  audio?: AudioMedia;
  /** The sampled frames (the model's own time reads their times: its grids are one per frame pair). */
  frames?: readonly { t: number }[];
}

export interface AssembleQuery {
  timeTokens?: TimeTokenMode;
  timeFormat?: TimeEncodingOptions['timeFormat'];
  litaSpelling?: TimeEncodingOptions['litaSpelling'];
  /** State duration and frame times in the turn (LLaVA-Video's time instruction). */
  preamble: boolean;
  /** Token reduction (lib/reduce): the repeated tokens of the pooled frame blocks are merged away. */
  reduce?: ReduceSpec | null;
  /** With a fixed reduce budget: the visual tokens of the frames as sampled, before any skip. */
  reduceFull?: number;
}

export function assemble(encoded: Encoded, plan: Pick<VideoPlan, 'strategy' | 'segment' | 'temporalMerge' | 'modelTime'>, duration: number, q: AssembleQuery,
  hasToken: (token: string) => boolean, timeline: SampledExtras = {}): Assembled {
  const cues = [...(timeline.cues ?? [])];
  // the Qwen-VL family's own layout from its frame pairs (modelTimeItems below); times: every sampled frame's
  if (plan.modelTime && encoded.kind === 'grids') {
    const { items, visual, positions } = modelTimeItems(plan.modelTime, encoded.grids, (timeline.frames ?? []).map((f) => f.t));
    return { kind: 'items', items, visual, transcript: '', userTurn: (question) => [...items, { text: `\n${question}` }], surplus: visual - positions };
  }
  // native: the frames, the audio chunks and the cues between their markers (nativeLayout below)
  if (encoded.kind === 'native') return { kind: 'native', ...nativeLayout(encoded.frames, timeline.audio, cues, plan.segment, plan.temporalMerge ?? 1) };
  const merge = mergeOf(q.reduce, q.reduceFull ?? Infinity);
  const time = { timeTokens: q.timeTokens, duration: duration > 0 ? duration : undefined, timeFormat: q.timeFormat, litaSpelling: q.litaSpelling, hasToken, ...(merge ? { merge } : {}) };
  const chunks = timeline.audio?.chunks ?? [];
  // audio chunks take slots among the pooled frame blocks, each after its own time marker; the pooling never sees them (no slots: the method's plan)
  const slots = chunks.length > 0 ? audioSlots(timeline.audio!.steps) : [];
  const items: VideoItems = assembleWithSlots(plan.strategy as PooledStrategyName, encoded.grids, slots, time)
    .map((it) => (isSlotItem(it) ? chunks[it.slot]! : it));
  const visual = items.reduce((n, it) => n + ('count' in it ? it.count : 0), 0);
  const times = encoded.grids.map((g) => g.t);
  const preamble = q.preamble ? { duration, times } : null;
  // the pooled tokens are no longer one block per frame: the cues go as a timed transcript before the question
  const transcript = subtitleTranscript(times, cues, plan.segment);
  return {
    kind: 'items', items, visual, transcript,
    userTurn: (question) => composeUserTurn(items, `${transcript}${question}`, { preamble, questionFirst: plan.strategy === 'vcgpt' }),
  };
}

/**
 * The native path's layout of a video: frames and audio chunks in step order (the frames alone
 * without audio), and the user content around their markers with the subtitle cues after their
 * frame (after the last frame of a group when libmtmd merges `group` frames); no content when
 * there is neither sound nor a cue (the markers alone).
 */
export function nativeLayout<F extends { t: number }>(frames: readonly F[], audio: Pick<AudioMedia, 'steps' | 'chunks'> | undefined,
  cues: SubtitleCue[], segment?: [number, number], group = 1): { frames: readonly (F | MediaAudio)[]; content?: (marker: string) => string } {
  if (!audio && cues.length === 0) return { frames };
  const times = frames.map((f) => f.t);
  const steps: MediaStep[] = audio ? audio.steps : times.map((t, index) => ({ kind: 'frame', index, t }));
  return {
    frames: audio ? orderedMedia(steps, frames, audio.chunks) : frames,
    content: (marker) => stepContent(marker, steps, times, cues, segment, group),
  };
}

/** The media list in step order, frames taken from `frames` by index. */
export function orderedMedia<F>(steps: MediaStep[], frames: readonly F[], chunks: readonly MediaAudio[]): (F | MediaAudio)[] {
  let c = 0;
  return steps.map((s) => (s.kind === 'frame' ? frames[s.index]! : chunks[c++]!));
}

/*
 * Where subtitle cues enter a prompt: each cue goes right after the last frame shown at or before
 * its start (before the first frame when it starts earlier), rendered `[12.5s] "line"`, so the
 * model reads the words next to the picture they were on (stepContent, native) or in a timed
 * transcript (subtitleTranscript, pooled).
 */
/** `[12.5s] "text"`: time in seconds with one decimal (the notation of the time tokens), lines joined by ' / '. */
export function renderCue(cue: SubtitleCue): string {
  const text = cue.text.replace(/\s*\n\s*/g, ' / ').replace(/"/g, '\u201d');
  return `[${(Math.round(cue.start * 10) / 10).toFixed(1)}s] "${text}"`;
}

/**
 * The cues that go after each frame: out[k] for frame k (frames sorted by time), and `before`
 * for cues that start before frame 0. Cues outside [from, to] (the sampled segment) are left out.
 */
export function placeCues(cues: SubtitleCue[], frameTimes: number[], from = -Infinity, to = Infinity): { before: SubtitleCue[]; after: SubtitleCue[][] } {
  const before: SubtitleCue[] = [];
  const after: SubtitleCue[][] = frameTimes.map(() => []);
  for (const c of [...cues].sort((a, b) => a.start - b.start)) {
    const end = c.end ?? c.start;
    if (end < from || c.start > to) continue;
    // the last frame at or before the cue's start
    let k = -1;
    for (let i = 0; i < frameTimes.length; i++) if (frameTimes[i]! <= c.start + 1e-6) k = i;
    if (k < 0) before.push(c);
    else after[k]!.push(c);
  }
  return { before, after };
}

/**
 * Moves each frame's cues to the last frame of its group of `group` (Qwen2-VL's libmtmd merges
 * consecutive frames in pairs, and text between two markers would break the pair, doubling its
 * tokens): the cues of frame k go after frame min(n - 1, ceil((k + 1) / group) * group - 1).
 */
export function groupCues<T>(after: T[][], group: number): T[][] {
  if (group <= 1) return after;
  const out: T[][] = after.map(() => []);
  after.forEach((list, k) => out[Math.min(after.length - 1, Math.ceil((k + 1) / group) * group - 1)]!.push(...list));
  return out;
}

/**
 * The rendered cue lines of a native layout: `before` the first frame, and `after[k]` frame k's
 * (moved to the last frame of its group when libmtmd merges `group` frames), cues outside the
 * segment left out.
 */
export function cueLines(cues: SubtitleCue[], frameTimes: number[], segment?: [number, number], group = 1): { before: string[]; after: string[][] } {
  const placed = placeCues(cues, frameTimes, segment?.[0], segment?.[1]);
  return { before: placed.before.map(renderCue), after: groupCues(placed.after, group).map((k) => k.map(renderCue)) };
}

/** The user content: one marker per step, with subtitle cues after the marker of their frame. */
export function stepContent(marker: string, steps: MediaStep[], frameTimes: number[], cues: SubtitleCue[], segment?: [number, number], group = 1): string {
  const { before, after } = cueLines(cues, frameTimes, segment, group);
  let s = before.map((line) => `${line}\n`).join('');
  for (const st of steps) {
    s += marker;
    const lines = st.kind === 'frame' ? after[st.index]! : [];
    if (lines.length > 0) s += `\n${lines.join('\n')}\n`;
  }
  return s;
}

/** The cues of a pooled video: a timed transcript before the question ('' when no cue falls in the sampled span). */
export function subtitleTranscript(frameTimes: number[], cues: SubtitleCue[], segment?: [number, number]): string {
  const { before, after } = placeCues(cues, frameTimes, segment?.[0], segment?.[1]);
  const lines = [...before, ...after.flat()].map(renderCue);
  return lines.length === 0 ? '' : `Subtitles:\n${lines.join('\n')}\n`;
}

/**
 * Audio on the pooled strategies: where each chunk of a media order (lib/audio/media.ts mediaOrder) goes among
 * the pooled frame blocks. A chunk is a slot of lib/assembly: it carries the time marker of its
 * start (the same function as a frame's: LITA token, text timestamp or none) and goes before the
 * frame that follows it in the order, so the pooled prompt keeps the order of the plan.
 */
/** One slot per audio step, in step order: `t` its start, `before` the time of the next frame step (Infinity after the last). */
export function audioSlots(steps: readonly MediaStep[]): TimeSlot[] {
  const slots: TimeSlot[] = [];
  let open: TimeSlot[] = [];
  for (const s of steps) {
    if (s.kind === 'audio') {
      const slot = { t: s.start, before: Infinity };
      slots.push(slot);
      open.push(slot);
    } else {
      for (const slot of open) slot.before = s.t;
      open = [];
    }
  }
  return slots;
}

/**
 * The user turn around a pooled video, in the placement each method was trained with, with
 * LLaVA-Video's time instruction. The chat template of the model wraps the result (render.ts).
 */
export interface UserTurnOptions {
  /** LLaVA-Video: state duration and frame times between the video and the question. */
  preamble?: { duration: number; times: readonly number[] } | null;
  /** Video-ChatGPT puts the question first: `question\n<video>`; the others `<video>\nquestion`. */
  questionFirst?: boolean;
}

export function composeUserTurn<I extends object = PlanItem>(video: readonly I[], question: string, opts: UserTurnOptions = {}): Array<I | TextItem> {
  if (typeof question !== 'string') throw new VidlmError('ERR_INVALID_ARG', 'question must be a string');
  const pre = opts.preamble ? `${videoTimeInstruction(opts.preamble.duration, opts.preamble.times)}\n` : '';
  if (opts.questionFirst) return [{ text: `${pre}${question}\n` }, ...video];
  // LLaVA-Video training layout: "<image>\n{time_instruction}\n{question}".
  return [...video, { text: `\n${pre}${question}` }];
}

/**
 * LLaVA-Video's time instruction (LLaVA-VL/LLaVA-NeXT `llava/train/train.py`), verbatim,
 * including the missing space after "located at …." that the model was trained with.
 */
export function videoTimeInstruction(duration: number, times: readonly number[]): string {
  if (!(Number.isFinite(duration) && duration > 0)) throw new VidlmError('ERR_INVALID_ARG', `duration must be a positive number of seconds, got ${String(duration)}`);
  if (!Array.isArray(times) || times.length === 0 || !times.every((t) => Number.isFinite(t))) {
    throw new VidlmError('ERR_INVALID_ARG', 'times must be a non-empty array of frame timestamps in seconds');
  }
  const frameTime = times.map((t) => `${formatFixed(t, 2)}s`).join(',');
  return `The video lasts for ${formatFixed(duration, 2)} seconds, and ${times.length} frames are uniformly sampled from it. These frames are located at ${frameTime}.Please answer the following questions related to this video.`;
}

/**
 * The model's own time. `timeTokens: 'model'` on the `native` strategy (the default there for the Qwen-VL family): the
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
  for (const part of qwenVideoLayout(family, { times, h, w })) {
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
    items.push({ embeddings, count, positions: part.positions, span: part.span });
    visual += count;
    positions += part.span;
  }
  return { items, visual, positions };
}

/** A text part without the vision markers the render stage's image wrap puts around each grid. */
function unwrap(text: string): string {
  const a = text.startsWith(QWEN_VISION_END) ? QWEN_VISION_END.length : 0;
  const b = text.endsWith(QWEN_VISION_START) ? text.length - QWEN_VISION_START.length : text.length;
  return text.slice(a, Math.max(a, b));
}
