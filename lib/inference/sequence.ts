/**
 * One KV sequence of a context, as a value: its id and its context together, with the
 * operations that take a sequence (evaluate after its end, generate from it, its position,
 * forget a range, copy it to another). Chats, their forks and the server's slots hold one of
 * these instead of passing a bare sequence number next to a context.
 */
import { VidlmError } from '../errors.js';
import type { NativeGenerateParams } from '../native.js';
import type { Context, ContextPlan, GenerateOptions, PrefillOptions, PrefillResult, TurnOutcome } from './context.js';
import type { MediaInput } from './encode.js';
import type { Generation } from './generation.js';

export class Sequence {
  readonly context: Context;
  readonly id: number;

  constructor(context: Context, id: number) {
    if (!Number.isInteger(id) || id < 0 || id >= context.sequences) {
      throw new VidlmError('ERR_INVALID_ARG', `sequence must be an integer from 0 to ${context.sequences - 1}`, { option: 'sequence' });
    }
    this.context = context;
    this.id = id;
  }

  /** Positions evaluated so far (the next one's index). */
  get nPast(): number { return this.context.nPast(this.id); }

  /** Evaluates a plan after the sequence's end (Context.prefill). */
  prefill(plan: ContextPlan, opts: Omit<PrefillOptions, 'sequence'> = {}): Promise<PrefillResult> {
    return this.context.prefill(plan, { ...opts, sequence: this.id });
  }

  /** Evaluates text with media markers and their frames through libmtmd (Context.prefillMedia). */
  prefillMedia(text: string, frames: readonly MediaInput[], opts: Omit<PrefillOptions, 'sequence'> & { mergeable?: boolean } = {}): Promise<PrefillResult> {
    return this.context.prefillMedia(text, frames, { ...opts, sequence: this.id });
  }

  generate(opts: Omit<GenerateOptions, 'sequence'> = {}): Generation {
    return this.context.generate({ ...opts, sequence: this.id });
  }

  /** A chat turn: prefill then generate as one unit; a failed turn leaves the sequence as it was (Context.turn). */
  turn(plan: ContextPlan, params: NativeGenerateParams, signal: AbortSignal | undefined, onPiece: (piece: string) => void): Promise<TurnOutcome> {
    return this.context.turn(plan, this.id, params, signal, onPiece);
  }

  /** Forgets everything from position `pos` on (0: the sequence is empty again). */
  truncate(pos: number): Promise<void> { return this.context.truncate(this.id, pos); }

  /** Makes `to` (a sequence of the same context) a copy of this one: a fork shares the prefix without evaluating it again. */
  copyTo(to: Sequence): Promise<void> {
    if (to.context !== this.context) throw new VidlmError('ERR_INVALID_ARG', 'a sequence copies only to a sequence of its own context', { option: 'sequence' });
    return this.context.copySequence(this.id, to.id);
  }
}
