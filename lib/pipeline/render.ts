/**
 * Stage 4, render: the model's chat template around the user turn. The result is what the
 * context evaluates: a prefix (the template's start and the video, evaluated once when a chat
 * starts) and the rest (the template text after the video, with QUESTION where the question goes).
 */
import type { PlanItem, SequencePlan } from '../assembly/types.js';
import { isEmbeddingItem } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { AudioItem, ContextPlan } from '../inference/context.js';
import type { MediaInput } from '../inference/encode.js';
import type { Assembled } from './assemble.js';

export interface ChatMessage { role: 'system' | 'user' | 'assistant' | string; content: string }

/** What rendering needs of a model: its template, its media marker and the tokens around media. */
export interface ChatTemplate {
  readonly mediaMarker: string;
  applyTemplate(messages: ChatMessage[], opts?: { addAssistant?: boolean }): string;
  formatTurn(history: ChatMessage[], message: ChatMessage): string;
  /** Tokens the model puts around each media block (empty for LLaVA). */
  readonly imageWrap: { before: Int32Array; after: Int32Array };
}

/** Where the question goes in a rendered turn; replaced when the question is asked. */
export const QUESTION = '\u0000vidlm-question\u0000';

export interface RenderedPrompt {
  /** Evaluated when the chat starts: a context plan, or text with one media marker per frame for libmtmd. */
  prefix: { kind: 'plan'; plan: ContextPlan } | { kind: 'media'; text: string; frames: readonly MediaInput[] };
  /** Evaluated with the first question: the rest of the first turn, QUESTION inside. */
  rest: ContextPlan;
  /** The conversation as text, the video as media markers, QUESTION in the user message. */
  history: ChatMessage[];
}

function messagesOf(system: string | undefined, content: string): ChatMessage[] {
  return [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content }];
}

/**
 * Pooled items: one marker per run of embeddings (wrapped in the model's image tokens) and per
 * audio clip (libmtmd wraps it in the family's audio markers when it is evaluated), the template
 * applied, the markers replaced by the items.
 */
function renderItems(template: ChatTemplate, turn: ReadonlyArray<PlanItem | AudioItem>, system: string | undefined): RenderedPrompt {
  const marker = template.mediaMarker;
  const blocks: Array<PlanItem[] | AudioItem> = [];
  let content = '';
  for (const item of turn) {
    if ('audio' in item) {
      content += marker;
      blocks.push(item);
    } else if (isEmbeddingItem(item)) {
      const open = blocks[blocks.length - 1];
      if (Array.isArray(open) && content.endsWith(marker)) open.push(item);
      else { content += marker; blocks.push([item]); }
    } else content += item.text;
  }
  const history = messagesOf(system, content);
  const pieces = template.applyTemplate(history, { addAssistant: true }).split(marker);
  if (pieces.length !== blocks.length + 1) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
  const plan: ContextPlan[number][] = [];
  let cut = 0; // everything up to the end of the last video block is the prefix; the rest waits for the question
  pieces.forEach((text, i) => {
    if (text) plan.push({ text });
    const block = blocks[i];
    if (!block) return;
    if (Array.isArray(block)) plan.push({ tokens: template.imageWrap.before }, ...block, { tokens: template.imageWrap.after });
    else plan.push(block);
    cut = plan.length;
  });
  const prefix = plan.slice(0, cut);
  if (prefix.some((p) => 'text' in p && p.text.includes(QUESTION))) return { prefix: { kind: 'plan', plan: [] }, rest: plan, history }; // question before the video
  return { prefix: { kind: 'plan', plan: prefix }, rest: plan.slice(cut), history };
}

/**
 * Media: one marker per frame or audio clip (`content` places them among text such as subtitle
 * cues), a newline, then the question; the prefix ends after the last marker.
 */
function renderMedia(template: ChatTemplate, frames: readonly MediaInput[], system: string | undefined, content?: (marker: string) => string): RenderedPrompt {
  if (frames.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'a media chat needs at least one frame');
  const marker = template.mediaMarker;
  const history = messagesOf(system, `${content?.(marker) ?? marker.repeat(frames.length)}\n${QUESTION}`);
  const rendered = template.applyTemplate(history, { addAssistant: true });
  const cut = rendered.lastIndexOf(marker) + marker.length;
  const rest = rendered.slice(cut);
  if (rendered.split(marker).length !== frames.length + 1 || !rest.includes(QUESTION)) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
  return { prefix: { kind: 'media', text: rendered.slice(0, cut), frames }, rest: [{ text: rest }], history };
}

export function render(template: ChatTemplate, assembled: Assembled, opts: { system?: string } = {}): RenderedPrompt {
  return assembled.kind === 'media'
    ? renderMedia(template, assembled.frames, opts.system, assembled.content)
    : renderItems(template, assembled.userTurn(QUESTION), opts.system);
}
