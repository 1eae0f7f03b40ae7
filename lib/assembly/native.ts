/**
 * `native`: the model's own video path (Qwen2-VL/2.5-VL/3-VL with M-RoPE and their temporal
 * merge; llama.cpp's mtmd video helper). It needs the encoder and the model, so the inference
 * layer implements it; this pure assembler only reserves the name.
 */
import { VidlmError } from '../errors.js';
import type { Strategy } from './strategy.js';

function unsupported(): never {
  throw new VidlmError('ERR_UNSUPPORTED', 'native: the model\'s own video path is run by the inference layer, not by the pure token assembler; pick concat, slowfast, pllava, bilinear or vcgpt to assemble grids');
}

/** llama.cpp's video helper samples at 4 fps (`fps_target`); the model may override it. */
export const nativeDefaults = { fps: 4 } as const;

export const native: Strategy = {
  name: 'native',
  source: 'the model\'s own video path (inference layer)',
  defaults: nativeDefaults,
  assemble: unsupported,
  countTokens: unsupported,
};
