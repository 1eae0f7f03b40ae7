/**
 * How fast must a box be? Measures the model's encode, prefill and generation speeds on this
 * machine (a few synthetic frames and tokens) and works out one window's cost:
 *
 *   T(window) = every·fps·t_encode + (V(window·fps) + P) / r_prefill + G / r_generate
 *
 * (new frames only are encoded; V: the strategy's visual tokens for the window's frames; P: the
 * prompt and template tokens; G: the answer's tokens). The watch keeps up when T ≤ every.
 */
import { countTokens } from '../assembly/index.js';
import type { PooledStrategyName } from '../assembly/types.js';
import { mediaTokenBudget } from '../pipeline/plan.js';
import { VidlmError, throwIfAborted } from '../errors.js';
import type { Model } from '../model.js';
import { checkWatch, type CheckedWatch } from './options.js';
import type { WatchOptions } from './types.js';
import { yesNoQuestion } from './watch.js';

export interface Speeds {
  encodeMsPerFrame: number;
  prefillTokensPerSecond: number;
  generateTokensPerSecond: number;
}

export interface WindowCost {
  every: number;
  window: number;
  fps: number;
  /** Frames encoded per window once it is full, and frames it holds. */
  newFrames: number;
  frames: number;
  visualTokens: number;
  promptTokens: number;
  answerTokens: number;
  encodeMs: number;
  prefillMs: number;
  generateMs: number;
  totalMs: number;
  /** every / T: above 1 the watch keeps up with a live source. */
  realTimeFactor: number;
  keepsUp: boolean;
}

export interface WatchPlan { strategy: string; speeds: Speeds; cost: WindowCost; table: WindowCost[] }

/** Measures this machine's speeds for the model (a few seconds on a CPU). */
export async function measureSpeeds(model: Model, opts: { contextSize?: number; signal?: AbortSignal } = {}): Promise<Speeds> {
  const size = model.info.imageSize!;
  const frame = (k: number) => {
    const rgb = new Uint8Array(size * size * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 31 + k * 17) & 255;
    return { t: k, width: size, height: size, rgb };
  };
  await model.encodeWithStats([frame(0)], { cache: false, signal: opts.signal }); // warm-up
  const n = 4;
  const enc = await model.encodeWithStats(Array.from({ length: n }, (_, k) => frame(k + 1)), { cache: false, signal: opts.signal });
  throwIfAborted(opts.signal);
  const ctx = await model.createContext({ contextSize: opts.contextSize ?? Math.min(2048, model.info.nCtxTrain || 2048), sequences: 1 });
  try {
    const dim = model.native.nEmbdInp;
    const count = Math.min(512, ctx.contextSize - 64);
    const embeddings = new Float32Array(count * dim).fill(0.01);
    const pre = await ctx.prefill([{ text: 'Video: ' }, { embeddings, count }, { text: '\nWhat happens?' }], { signal: opts.signal });
    const gen = await ctx.generate({ maxTokens: 32, temperature: 0, signal: opts.signal });
    return {
      encodeMsPerFrame: enc.stats.ms / n,
      prefillTokensPerSecond: (pre.evaluated * 1000) / pre.ms,
      generateTokensPerSecond: gen.timings.tokensPerSecond || gen.tokens.generated / Math.max(1e-3, gen.timings.generateMs / 1000),
    };
  } finally {
    ctx.dispose();
  }
}

/** One window's cost with these settings and speeds. */
export function windowCost(c: Pick<CheckedWatch, 'every' | 'window' | 'fps' | 'strategy'>, grid: { nx: number; ny: number }, speeds: Speeds,
  promptTokens: number, answerTokens: number): WindowCost {
  const frames = Math.max(1, Math.round(c.window * c.fps));
  const newFrames = Math.max(1, Math.min(frames, Math.round(c.every * c.fps)));
  const visualTokens = countTokens(c.strategy as PooledStrategyName, { frames, nx: grid.nx, ny: grid.ny });
  const encodeMs = newFrames * speeds.encodeMsPerFrame;
  const prefillMs = ((visualTokens + promptTokens) * 1000) / speeds.prefillTokensPerSecond;
  const generateMs = (answerTokens * 1000) / speeds.generateTokensPerSecond;
  const totalMs = encodeMs + prefillMs + generateMs;
  return { every: c.every, window: c.window, fps: c.fps, newFrames, frames, visualTokens, promptTokens, answerTokens, encodeMs, prefillMs, generateMs, totalMs,
    realTimeFactor: (c.every * 1000) / totalMs, keepsUp: totalMs <= c.every * 1000 };
}

/** The estimate `vidlm watch --plan` prints: these settings, and a table of others around them. */
export async function planWatch(source: string, o: WatchOptions): Promise<WatchPlan> {
  const c = checkWatch(source, o);
  if (c.strategy === 'native') throw new VidlmError('ERR_UNSUPPORTED', "the estimate is for pooled windows: a native watch (M-RoPE, or a model that only hears) goes through the native path, whose encoder runs inside each window's prefill", { option: c.audio ? 'audio' : 'strategy' });
  const speeds = await measureSpeeds(c.model, { contextSize: c.contextSize, signal: c.signal });
  const grid = c.model.info.imageGrid!;
  // the template adds a few dozen tokens around the question; a `when` answer is one token (+ a span on events)
  const question = c.when ? yesNoQuestion(c.when) : c.prompt;
  const promptTokens = Math.ceil(question.length / 3) + 48;
  const answerTokens = c.when ? 2 : c.generate.maxTokens ?? 256;
  const cost = windowCost(c, grid, speeds, promptTokens, answerTokens);
  const table: WindowCost[] = [];
  for (const every of [5, 10, 30]) {
    for (const fps of [0.5, 1, 2]) {
      const window = every * 3;
      const frames = Math.round(window * fps);
      if (countTokens(c.strategy, { frames, nx: grid.nx, ny: grid.ny }) > mediaTokenBudget(c.contextSize)) continue;
      table.push(windowCost({ every, window, fps, strategy: c.strategy }, grid, speeds, promptTokens, answerTokens));
    }
  }
  return { strategy: c.strategy, speeds, cost, table };
}
