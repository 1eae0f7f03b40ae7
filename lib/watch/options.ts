/**
 * watch() options, every one checked before anything is opened: ERR_INVALID_ARG naming the
 * option, ERR_UNSUPPORTED for models the watch cannot serve, ERR_CONTEXT_FULL when a window's
 * frames cannot fit the context with the chosen strategy. The strategy rules (which a model
 * takes, auto's choice, the text reserve, the budget and its error) are the pipeline's.
 */
import { checkAudioOption, type CheckedAudio } from '../audio/media.js';
import { checkSubtitleSpec, type SubtitleSpec } from '../video/subtitles.js';
import type { StrategyName } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import { generateParams } from '../inference/generate-options.js';
import type { GenerateOptions } from '../inference/generate-options.js';
import type { Model } from '../model.js';
import { invalid, optionalBool, optionalFunction, optionalInt, optionalNumber, optionalSignal } from '../options.js';
import { resolveTimeEncoding, type TimeTokenMode } from '../time/encode.js';
import type { FitMode, FpsRule, VideoInput } from '../video/types.js';
import { checkFpsRule } from '../api/options.js';
import { chooseStrategy, contextFull, mediaTokenBudget, visualTokens } from '../pipeline/index.js';
import { checkModelTimeOption, planModelTime } from '../pipeline/plan.js';
import type { QwenFamily } from '../mrope/index.js';
import { checkWindowMedia, windowAudio } from './sound.js';
import { isLiveInput } from './source.js';
import type { WatchOptions } from './types.js';
import { checkReduce, type ReduceSpec } from '../reduce/option.js';
import { checkContextLimit, checkFramesLimit, checkPlanLimits } from '../limits.js';

export const DEFAULT_PROMPT = 'Describe what changed.';

export interface CheckedWatch {
  model: Model;
  every: number;
  window: number;
  fps: number;
  /** A file's fps rule (undefined: 'time'). */
  fpsRule?: FpsRule;
  /** Most frames a window can hold. */
  maxFrames: number;
  prompt: string;
  when?: string;
  localize: boolean;
  cooldown: number;
  /** The window's method: a paper's pooling (frames encoded once, shared by the windows) or 'native', the native path (M-RoPE models, a model that only hears). */
  strategy: StrategyName;
  /** The sound of each window (either path), and whether the model sees pictures at all. */
  audio: CheckedAudio | null;
  pictures: boolean;
  subtitles?: SubtitleSpec;
  timeTokens: TimeTokenMode;
  /** The native strategy with the Qwen-VL family's own time (lib/pipeline/plan.ts planModelTime; the default there): frame pairs encoded once across windows. */
  modelTime?: QwenFamily;
  system?: string;
  realtime: boolean;
  live: boolean;
  contextSize: number;
  fit: FitMode;
  imageSize: number;
  /** Token reduction: frames that repeat skipped, windows with nothing new gated (lib/watch/motion.ts). */
  reduce: ReduceSpec | null;
  /** Generation options of every answer (grammars are added per question). */
  generate: GenerateOptions;
  signal?: AbortSignal;
  onToken?: (piece: string) => void;
  timeout?: number;
  retries?: number;
  backoff?: number;
  maxBackoff?: number;
  format?: string;
  ffmpegOptions?: Record<string, string | number>;
}

export function checkSource(v: unknown): VideoInput {
  if ((typeof v === 'string' && v.length > 0) || v instanceof URL || v instanceof Uint8Array) return v;
  throw invalid('source', 'a path, a URL or a Buffer/Uint8Array', v);
}

function optionalText(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw invalid(name, 'a non-empty string', v);
  return v;
}

export function checkWatch(source: VideoInput, o: WatchOptions): CheckedWatch {
  if (!o || typeof o !== 'object') throw invalid('options', 'an object with a model', o);
  if (!o.model || typeof o.model.encode !== 'function') throw invalid('model', 'a Model from loadModel()', o.model);
  if (o.model.disposed) throw new VidlmError('ERR_DISPOSED', 'the model was disposed');
  const info = o.model.info;
  const pictures = !!(info.vision && info.imageGrid && info.imageSize);
  if (!pictures && !info.audio) throw new VidlmError('ERR_UNSUPPORTED', 'the model has no vision encoder: load it with its mmproj');
  // a model that only hears gets each window's sound alone (the native path); the window's default audio window follows the strategy below
  let audio = checkAudioOption(o.audio, o.audioWindow, info, o.audioLength) ?? (pictures ? null : checkAudioOption('prefix', o.audioWindow, info, o.audioLength));
  checkSubtitleSpec(o.subtitles);
  const every = optionalNumber('every', o.every, 0.05, 86_400, 10);
  const window = optionalNumber('window', o.window, every, 86_400, Math.max(30, every));
  if (o.frames !== undefined && o.fps !== undefined) throw new VidlmError('ERR_INVALID_ARG', 'give frames or fps, not both', { option: 'frames' });
  const fps = o.frames !== undefined ? optionalInt('frames', o.frames, 1, 10_000, 1) / window : optionalNumber('fps', o.fps, 0.001, 60, 1);
  const maxFrames = Math.ceil(window * fps - 1e-9) + 1;
  const when = optionalText('when', o.when);
  const prompt = optionalText('prompt', o.prompt);
  if (when !== undefined && prompt !== undefined) throw new VidlmError('ERR_INVALID_ARG', 'give prompt or when, not both', { option: 'when' });
  const localize = optionalBool('localize', o.localize, false);
  if (localize && when === undefined) throw new VidlmError('ERR_INVALID_ARG', 'localize needs `when` (the event to find)', { option: 'localize' });
  const time = resolveTimeEncoding({ timeTokens: o.timeTokens ?? (localize ? 'lita' : 'none'), duration: 1 });
  if (localize && time.mode !== 'lita') throw new VidlmError('ERR_INVALID_ARG', "localize reads LITA time tokens: leave timeTokens out or set it to 'lita'", { option: 'timeTokens' });
  if ((o as { grammar?: unknown }).grammar !== undefined || (o as { jsonSchema?: unknown }).jsonSchema !== undefined) {
    throw new VidlmError('ERR_INVALID_ARG', 'watch() sets its own grammar for `when`; grammar and jsonSchema are not options of watch()', { option: 'grammar' });
  }
  const contextSize = optionalInt('contextSize', o.contextSize, 64, 1 << 24, Math.min(4096, info.nCtxTrain || 4096, o.model.limits.contextSize));
  checkContextLimit(o.model.limits, contextSize);
  checkFramesLimit(o.model.limits, maxFrames);
  if (audio) checkPlanLimits(o.model.limits, { frames: maxFrames, audioSeconds: window, framePixels: (info.imageSize ?? 0) ** 2 });
  const budget = mediaTokenBudget(contextSize);
  const choice = o.strategy ?? 'auto';
  if (typeof choice !== 'string') throw invalid('strategy', "'auto' or a strategy name", choice);
  let strategy: StrategyName;
  if (audio && !pictures) {
    // nothing to see: libmtmd's media path, the window's sound alone
    if (choice !== 'auto' && choice !== 'native') throw new VidlmError('ERR_UNSUPPORTED', `the model only hears: strategy ${choice} has no frames to pool (leave strategy out)`, { option: 'strategy' });
    strategy = 'native';
  } else {
    // localize needs time tokens in front of the frames: LITA's SlowFast is its method (on M-RoPE models too: its grids get positions of their own);
    // auto is ask()'s rule (native on M-RoPE models); sound goes with either path, as in ask() (pooled: audio items among the frame blocks)
    strategy = chooseStrategy(choice === 'auto' && localize ? 'slowfast' : choice, info, budget, maxFrames);
  }
  audio = windowAudio(o, info, strategy, pictures ? maxFrames : 0, window, audio);
  checkModelTimeOption(o.timeTokens, o.strategy, info);
  const modelTime = pictures ? planModelTime(strategy, info, o.timeTokens, { isImage: false, audio: Boolean(audio), subtitles: o.subtitles !== undefined && o.subtitles !== false }) : undefined;
  if (strategy === 'native') {
    if (localize || (time.mode !== 'none' && !modelTime)) {
      throw new VidlmError('ERR_UNSUPPORTED', 'the native strategy gives the frames to the model as its own media: time tokens and localize need a pooling strategy', { option: localize ? 'localize' : 'timeTokens' });
    }
  } else if (!audio && visualTokens(strategy, maxFrames, info) > budget) throw contextFull(strategy, maxFrames, info, contextSize, contextSize - budget);
  if (strategy === 'native' || audio) checkWindowMedia({ info, audio, strategy, frames: pictures ? maxFrames : 0, window, budget, contextSize });
  const fit = o.fit ?? 'pad';
  if (!['stretch', 'pad', 'crop'].includes(fit)) throw invalid('fit', "'stretch', 'pad' or 'crop'", fit);
  if (o.system !== undefined && typeof o.system !== 'string') throw invalid('system', 'a string', o.system);
  const generate = generateParams({ ...o, grammar: undefined, jsonSchema: undefined } as GenerateOptions);
  const live = o.live === undefined ? isLiveInput(source) : optionalBool('live', o.live, false);
  // every window is an fps plan (frames: N is fps = N / window); live() samples by time alone
  const fpsRule = checkFpsRule(o.fpsRule, fps);
  if (live && fpsRule !== undefined && fpsRule !== 'time') throw new VidlmError('ERR_UNSUPPORTED', `a live stream is sampled by time: fpsRule '${fpsRule}' is for files`, { option: 'fpsRule' });
  for (const k of ['timeout', 'retries', 'backoff', 'maxBackoff'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && !Number.isNaN(v))) throw invalid(k, 'a number >= 0', v);
  }
  return {
    model: o.model, every, window, fps, ...(fpsRule !== undefined ? { fpsRule } : {}), maxFrames,
    prompt: prompt ?? DEFAULT_PROMPT, when, localize,
    cooldown: optionalInt('cooldown', o.cooldown, 1, 1_000_000, 1),
    strategy, audio, pictures, ...(o.subtitles !== undefined && o.subtitles !== false ? { subtitles: o.subtitles } : {}),
    timeTokens: modelTime ? 'model' : time.mode, ...(modelTime ? { modelTime } : {}), system: o.system, reduce: checkReduce(o.reduce),
    realtime: optionalBool('realtime', o.realtime, true), live,
    contextSize, fit, imageSize: info.imageSize ?? 0,
    generate: { maxTokens: generate.maxTokens, temperature: generate.temperature, topK: generate.topK, topP: generate.topP, minP: generate.minP,
      repeatPenalty: generate.repeatPenalty, repeatLastN: generate.repeatLastN, seed: generate.seed, stop: generate.stop },
    signal: optionalSignal('signal', o.signal),
    onToken: optionalFunction<(piece: string) => void>('onToken', o.onToken),
    timeout: o.timeout, retries: o.retries, backoff: o.backoff, maxBackoff: o.maxBackoff,
    format: o.format, ffmpegOptions: o.ffmpegOptions,
  };
}
