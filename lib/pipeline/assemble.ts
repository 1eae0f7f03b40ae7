/**
 * Stage 3, assemble: the video's part of the user turn.
 * - pooled: a paper's method (lib/assembly) turns the grids into text and embedding items, time
 *   tokens included, and places the question the way the method was trained (Video-ChatGPT first).
 * - media (strategy 'native'): the frames stay media, one marker each; libmtmd places them.
 * With the sampled video's timeline: subtitle cues after the marker of their frame (native) or as a
 * timed transcript before the question (pooled), and audio chunks among the frames in time order
 * (native: media of their own; pooled: audio items between the frame blocks, with time markers).
 */
import { assembleWithSlots, isSlotItem } from '../assembly/index.js';
import type { PlanItem, PooledStrategyName } from '../assembly/types.js';
import { nativeLayout, type AudioMedia } from '../audio/media.js';
import { audioSlots } from '../audio/slots.js';
import type { AudioItem } from '../inference/context.js';
import type { MediaInput } from '../inference/encode.js';
import { composeUserTurn } from '../prompt/compose.js';
import { subtitleTranscript } from '../subtitles/prompt.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import type { SubtitleCue } from '../video/types.js';
import type { Encoded } from './encode.js';
import { mergeOf } from '../reduce/pipeline.js';
import { modelTimeItems } from './model-time.js';
import type { ReduceSpec } from '../reduce/option.js';
import type { VideoPlan } from './plan.js';

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
  // the Qwen-VL family's own layout from its frame pairs (model-time.ts); times: every sampled frame's
  if (plan.modelTime && encoded.kind === 'grids') {
    const { items, visual, positions } = modelTimeItems(plan.modelTime, encoded.grids, (timeline.frames ?? []).map((f) => f.t));
    return { kind: 'items', items, visual, transcript: '', userTurn: (question) => [...items, { text: `\n${question}` }], surplus: visual - positions };
  }
  // native: lib/audio lays out the frames, the audio chunks and the cues between their markers
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
