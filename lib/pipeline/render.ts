/**
 * Stage 4, render: the model's chat template around the conversation. A message is text and
 * assembled videos; a video followed by text puts that text in the video's own user turn (the
 * method's layout: LLaVA's `<video>\nquestion`, Video-ChatGPT's question first, the time
 * preamble and the subtitle transcript between). ask() renders one message, the video and
 * QUESTION; the server renders a whole request. The result is what the context evaluates: a
 * prefix (up to the end of the last video, evaluated once when a chat starts) and the rest.
 *
 * prepare() (below) is one question's whole path for ask() and chat(): readVideo (read.ts), this
 * stage, then the chat started on the prefix.
 */
import { isEmbeddingItem, type PlanItem, type StrategyName } from '../assembly/types.js';
import { Chat } from '../inference/chat.js';
import type { MediaChunkReport } from '../native.js';
import type { ReduceReport } from '../reduce/pipeline.js';
import type { VideoFrame, VideoInput } from '../video/types.js';
import { VidlmError } from '../errors.js';
import type { AudioItem, ContextPlan } from '../inference/context.js';
import type { MediaInput } from '../inference/encode.js';
import { QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt } from '../inference/prompt.js';
import type { Assembled } from './assemble.js';
import { readVideo, stageReporter, type ReadQuery } from './read.js';

export { QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt } from '../inference/prompt.js';

/** One message of a conversation: text pieces and assembled videos, in order. */
export interface TurnMessage { role: string; parts: ReadonlyArray<string | Assembled> }

/** The user content of one video with `question` after it (or before it: Video-ChatGPT), the media as `marker`. */
function videoTurn(a: Assembled, question: string, marker: string): Array<PlanItem | AudioItem> | { text: string; media: readonly MediaInput[] } {
  if (a.kind === 'items') return a.userTurn(question);
  return { text: `${a.content?.(marker) ?? marker.repeat(a.frames.length)}\n${question}`, media: a.frames };
}

interface Layout {
  messages: ChatMessage[];
  /** Pooled: one block per marker, in order (a run of embeddings, or an audio clip). */
  blocks: Array<PlanItem[] | AudioItem>;
  /** Native path: one picture or clip per marker, in order. */
  media: MediaInput[];
}

function layout(turns: readonly TurnMessage[], marker: string): Layout {
  const blocks: Layout['blocks'] = [];
  const media: MediaInput[] = [];
  const messages = turns.map((m) => {
    let content = '';
    const add = (items: ReadonlyArray<PlanItem | AudioItem>) => {
      for (const item of items) {
        if ('audio' in item) { content += marker; blocks.push(item); } else if (isEmbeddingItem(item)) {
          const open = blocks[blocks.length - 1];
          if (Array.isArray(open) && content.endsWith(marker)) open.push(item);
          else { content += marker; blocks.push([item]); }
        } else content += item.text;
      }
    };
    for (let k = 0; k < m.parts.length; k++) {
      const p = m.parts[k]!;
      if (typeof p === 'string') { content += p; continue; }
      const next = m.parts[k + 1];
      const question = typeof next === 'string' ? next : '';
      if (typeof next === 'string') k++;
      const turn = videoTurn(p, question, marker);
      if (Array.isArray(turn)) add(turn);
      else { content += turn.text; media.push(...turn.media); }
    }
    return { role: m.role, content };
  });
  return { messages, blocks, media };
}

/** The conversation as a context plan: the template applied, each marker replaced by its block; `cut`: items up to the last block. */
function toPlan(template: ChatTemplate, rendered: string, blocks: Layout['blocks']): { plan: ContextPlan[number][]; cut: number } {
  const pieces = rendered.split(template.mediaMarker);
  if (pieces.length !== blocks.length + 1) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
  const plan: ContextPlan[number][] = [];
  let cut = 0;
  pieces.forEach((text, i) => {
    if (text) plan.push({ text });
    const block = blocks[i];
    if (!block) return;
    if (Array.isArray(block)) plan.push({ tokens: template.imageWrap.before }, ...block, { tokens: template.imageWrap.after });
    else plan.push(block);
    cut = plan.length;
  });
  return { plan, cut };
}

/**
 * A conversation as the model's template renders it, split after its last video: the pooled
 * path's context plan, or libmtmd's text with one marker per picture or clip and those in order.
 */
export function renderTurns(template: ChatTemplate, turns: readonly TurnMessage[]): RenderedPrompt {
  const laid = layout(turns, template.mediaMarker);
  return split(template, laid, template.applyTemplate(laid.messages, { addAssistant: true }));
}

/**
 * renderTurns with the template applied by the caller, asynchronously: `apply` gets the messages
 * (the media as markers) and gives the template's text — the server's, rendered off the event loop
 * or by llama.cpp's tool-aware rendering. The layout is made once, for both.
 */
export async function renderTurnsWith(template: ChatTemplate, turns: readonly TurnMessage[], apply: (messages: ChatMessage[]) => Promise<string>): Promise<RenderedPrompt> {
  const laid = layout(turns, template.mediaMarker);
  return split(template, laid, await apply(laid.messages));
}

/** The template's text split after the last video, each marker given its block (pooled) or picture (native). */
function split(template: ChatTemplate, { messages, blocks, media }: Layout, text: string): RenderedPrompt {
  const marker = template.mediaMarker;
  if (blocks.length > 0 && media.length > 0) throw new VidlmError('ERR_INVALID_ARG', 'a conversation takes pooled videos or native-path videos, not both');
  if (media.length > 0) {
    const cut = text.lastIndexOf(marker) + marker.length;
    if (text.split(marker).length !== media.length + 1) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
    return { prefix: { kind: 'native', text: text.slice(0, cut), frames: media }, rest: [{ text: text.slice(cut) }], history: messages };
  }
  const { plan, cut } = toPlan(template, text, blocks);
  const prefix = plan.slice(0, cut);
  // the question before the video (Video-ChatGPT): nothing can be evaluated before it is known
  if (prefix.some((p) => 'text' in p && p.text.includes(QUESTION))) return { prefix: { kind: 'plan', plan: [] }, rest: plan, history: messages };
  return { prefix: { kind: 'plan', plan: prefix }, rest: plan.slice(cut), history: messages };
}

/** One question about one video: the system prompt, the video, QUESTION where the question goes. */
export function render(template: ChatTemplate, assembled: Assembled, opts: { system?: string } = {}): RenderedPrompt {
  if (assembled.kind === 'native' && assembled.frames.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'a media chat needs at least one frame');
  return renderTurns(template, [
    ...(opts.system ? [{ role: 'system', parts: [opts.system] }] : []),
    { role: 'user', parts: [assembled, QUESTION] },
  ]);
}

export interface PipelineQuery extends ReadQuery {
  system?: string;
  /** KV sequences of the chat's context (the chat and its forks). */
  sequences: number;
}

/** A chat holding the video, and what it took to get there. */
export interface Prepared {
  chat: Chat;
  /** Tokens and time of the prefix, evaluated when the chat started. */
  prefixTokens: number;
  prefixMs: number;
  strategy: StrategyName;
  visual: number;
  frames: VideoFrame[];
  duration: number;
  decodeMs: number;
  encodeMs: number;
  /** The mtmd path: what libmtmd evaluated, chunk by chunk (frames, audio clips, text between). */
  chunks?: MediaChunkReport[];
  /** With `reduce`: what it did (lib/reduce/skip.ts). */
  reduced?: ReduceReport;
  warning?: string;
}

export async function prepare(input: VideoInput, q: PipelineQuery): Promise<Prepared> {
  const { model, signal } = q;
  const { plan, video, encoded, assembled, decodeMs, reduced } = await readVideo(input, q);
  // the chat owns its context: disposing the chat (and its forks) frees it
  const context = await model.createContext({ contextSize: q.contextSize, sequences: q.sequences });
  try {
    const rendered = render(model, assembled, { system: q.system });
    const started = await Chat.begin(model, context, rendered, { signal, onProgress: stageReporter(q.onProgress, 'prefill') }, { ownsContext: true });
    return {
      // the native strategy counts positions on both of its layouts (assemble.ts: surplus)
      chat: started.chat, prefixTokens: started.evaluated - (assembled.kind === 'items' ? assembled.surplus ?? 0 : 0), prefixMs: started.ms, strategy: plan.strategy,
      // pooled: the pooled frame tokens plus what libmtmd made of the audio clips among them
      visual: assembled.kind === 'items' ? assembled.visual + started.mediaTokens : started.mediaTokens,
      frames: video.frames, duration: video.duration, decodeMs,
      encodeMs: encoded.kind === 'grids' ? encoded.ms : 0,
      ...(started.chunks ? { chunks: started.chunks } : {}),
      ...(reduced ? { reduced } : {}),
      ...(video.warning ? { warning: video.warning } : {}),
    };
  } catch (e) {
    context.dispose();
    throw e;
  }
}
