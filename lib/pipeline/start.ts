/**
 * Chats started from a video the caller assembled itself (model.chat with a pooled plan, or frames
 * for libmtmd): the render stage, then Chat.begin, as ask() starts its chat.
 */
import type { SequencePlan } from '../assembly/types.js';
import { Chat } from '../inference/chat.js';
import type { Context } from '../inference/context.js';
import type { MediaInput } from '../inference/encode.js';
import type { MediaChunkReport } from '../native.js';
import { render, type ChatTemplate } from './render.js';

export interface ChatStartOptions {
  system?: string;
  /**
   * The user turn around the video, with `question` where the question goes: by default the
   * video, a newline, then the question.
   */
  userTurn?: (question: string) => SequencePlan;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * Starts a chat about a video plan (from a pooled strategy): the template is applied and the
 * prefix up to the end of the video evaluated now. `ownsContext`: the chat disposes the context
 * when it and its forks are disposed.
 */
export async function startChat(model: ChatTemplate, context: Context, video: SequencePlan, opts: ChatStartOptions = {}, own: { ownsContext?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number }> {
  Chat.checkFresh(context);
  const userTurn = opts.userTurn ?? ((q: string) => [...video, { text: `\n${q}` }]);
  const rendered = render(model, { kind: 'items', items: video, visual: 0, transcript: '', userTurn }, { system: opts.system });
  return Chat.begin(model, context, rendered, opts, own);
}

/**
 * A chat whose video goes through the native path (Context.prefillMedia: libmtmd's
 * tokenizer, encoder and positions, M-RoPE and temporal frame merging included): the user turn
 * is one media marker per frame (or audio clip), a newline, then the question.
 */
export async function startMediaChat(model: ChatTemplate, context: Context, frames: readonly MediaInput[], opts: Omit<ChatStartOptions, 'userTurn'> & { mergeable?: boolean } = {},
  own: { ownsContext?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number; mediaTokens: number; chunks?: MediaChunkReport[] }> {
  Chat.checkFresh(context);
  return Chat.begin(model, context, render(model, { kind: 'native', frames }, { system: opts.system }), opts, own);
}
