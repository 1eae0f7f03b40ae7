/**
 * The whole conversation of a request, rendered by the pipeline's render stage (renderTurns, the
 * one that ask() uses): each media part is its assembled video, and the text after it is that
 * video's question. The server adds its own: the template rendered off the event loop (the
 * prompt as KV entries a slot can match against what it holds is prefill.ts's).
 */
import type { Model } from '../model.js';
import { renderTurnsWith, type RenderedPrompt, type TurnMessage } from '../pipeline/index.js';
import { badRequest, HttpError } from './errors.js';
import type { Message } from './request.js';
import type { PreparedMedia } from './media.js';
import type { NativeToolsTemplate } from '../native.js';
import { toolsTemplate, type ToolRequest } from './tools.js';

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
  let chat: NativeToolsTemplate | undefined;
  let applied = false;
  try {
    // the pipeline lays the turns out (the media as markers) and splits the text on them: the template is the server's
    const rendered = await renderTurnsWith(model, turns, async (marked) => {
      let text: string;
      if (tools || messages.some((m) => m.toolCalls || m.role === 'tool')) {
        chat = await toolsTemplate(model, marked, messages, tools, template);
        text = chat.prompt;
      } else {
        try {
          text = await model.applyTemplateAsync(marked, { addAssistant: true, ...(template ? { template } : {}) });
        } catch (e) {
          throw new HttpError(400, 'invalid_value', `the model's chat template refused the messages: ${(e as Error).message}`, { param: 'messages' });
        }
      }
      applied = true;
      return text;
    });
    return { ...rendered, ...(chat ? { chat } : {}) };
  } catch (e) {
    // the layout's and the template's own refusals as they are; the media split on the markers exactly as without tools
    if (!applied) throw e;
    throw new HttpError(500, 'template_error', (e as Error).message);
  }
}
