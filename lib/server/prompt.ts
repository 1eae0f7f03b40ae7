/**
 * The whole conversation of a request, rendered by the pipeline's render stage (renderTurns, the
 * one that ask() uses): each media part is its assembled video, and the text after it is that
 * video's question. The server adds its own: the template rendered off the event loop, and the
 * prompt as KV entries (prefix.ts) a slot can match against what it holds.
 */
import type { Context } from '../inference/context.js';
import type { Model } from '../model.js';
import { renderTurns, turnMessages, type RenderedPrompt, type TurnMessage } from '../pipeline/index.js';
import { badRequest, HttpError } from './errors.js';
import { tokenizeText } from './text.js';
import type { Entry } from './prefix.js';
import type { Message } from './request.js';
import type { PreparedMedia } from './video.js';
import type { NativeToolsTemplate } from '../native.js';
import { toolsTemplate, type ToolRequest } from './tools.js';
import { planEntries } from './audio-entries.js';

function turnsOf(messages: Message[], media: PreparedMedia[], marker: string): TurnMessage[] {
  let m = 0;
  return messages.map((msg, i) => ({
    role: msg.role,
    parts: msg.parts.map((p) => {
      if (p.kind === 'media') return media[m++]!.read.assembled;
      if (p.text.includes(marker)) throw badRequest('invalid_value', `text may not contain the model's media marker ${marker}`, `messages[${i}].content`);
      return p.text;
    }),
  }));
}

/**
 * The request rendered with the model's chat template, on a worker thread: the event loop stays
 * free for other requests. With tools (or tool calls and results in the history) llama.cpp's
 * tool-aware rendering gives the text, and `chat` its grammar and parser.
 */
export async function renderRequest(model: Model, messages: Message[], media: PreparedMedia[], opts: { tools?: ToolRequest; template?: string } = {}): Promise<RenderedPrompt & { chat?: NativeToolsTemplate }> {
  const { tools, template } = opts;
  const turns = turnsOf(messages, media, model.mediaMarker);
  let text: string;
  let chat: NativeToolsTemplate | undefined;
  if (tools || messages.some((m) => m.toolCalls || m.role === 'tool')) {
    chat = await toolsTemplate(model, turnMessages(model, turns), messages, tools, template);
    text = chat.prompt;
  } else {
    try {
      text = await model.applyTemplateAsync(turnMessages(model, turns), { addAssistant: true, ...(template ? { template } : {}) });
    } catch (e) {
      throw new HttpError(400, 'invalid_value', `the model's chat template refused the messages: ${(e as Error).message}`, { param: 'messages' });
    }
  }
  try {
    // the media split on the markers exactly as without tools
    return { ...renderTurns(model, turns, text), ...(chat ? { chat } : {}) };
  } catch (e) {
    throw new HttpError(500, 'template_error', (e as Error).message);
  }
}

/** A pooled prompt as prefix entries: BOS, text tokens and embedding blocks, each block named by its part's key. */
export async function pooledEntries(model: Model, tokenizer: Context, rendered: RenderedPrompt, media: PreparedMedia[]): Promise<Entry[]> {
  if (rendered.prefix.kind !== 'plan') throw new Error('a native-path prompt has no pooled entries');
  const keyOf = new Map<Float32Array, string>();
  for (const med of media) {
    const a = med.read.assembled;
    if (a.kind !== 'items') continue;
    let j = 0;
    for (const item of a.items) if ('embeddings' in item) keyOf.set(item.embeddings, `${med.key}#${j++}`);
  }
  // the text tokenized on the addon's worker thread: a long prompt does not hold the event loop; audio clips are blocks of their own (audio-entries.ts)
  return planEntries(tokenizer, await tokenizeText(model, [...rendered.prefix.plan, ...rendered.rest]), (e) => keyOf.get(e) ?? 'unknown');
}

/**
 * A native-path prompt as entries: one block for everything libmtmd evaluates (the text up to the
 * last marker and the media, named by that text and the parts' keys; `positions` once a slot
 * has evaluated it), then the text tokens after it, as a chat's first turn evaluates them.
 */
export async function mediaEntries(model: Model, rendered: RenderedPrompt, media: PreparedMedia[], known: (key: string) => Entry | undefined): Promise<{ entries: Entry[]; rest: Int32Array; key: string }> {
  if (rendered.prefix.kind !== 'native') throw new Error('a pooled prompt has no media entries');
  const key = `media:${JSON.stringify([rendered.prefix.text, media.map((m) => m.key)])}`;
  const rest = await model.handle.tokenizeAsync(rendered.rest.map((r) => ('text' in r ? r.text : '')).join(''), true);
  const held = known(key);
  return { entries: [held && typeof held !== 'number' ? held : { key, count: -1 }, ...rest], rest, key };
}
