/**
 * What a rendered prompt is, as a context evaluates it (lib/pipeline/render.ts makes one): the
 * template's messages, the prefix evaluated when a chat starts, and the rest with QUESTION.
 */
import type { ContextPlan, PromptPrefix } from './context.js';

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
  prefix: PromptPrefix;
  /** Evaluated with the first question: the rest of the first turn, QUESTION inside. */
  rest: ContextPlan;
  /** The conversation as text, the video as media markers, QUESTION in the user message. */
  history: ChatMessage[];
}
