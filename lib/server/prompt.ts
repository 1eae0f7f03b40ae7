/**
 * The whole conversation of a request as the model sees it: each message's text with one media
 * marker per run of visual tokens, rendered by the model's own chat template, then split at the
 * markers and interleaved with the embedding blocks (wrapped in the model's image tokens), as
 * Chat.start lays out one video. Pooled strategies give prefix entries (prefix.ts); the native
 * path gives template text with one marker per frame for libmtmd.
 */
import type { Context } from '../inference/context.js';
import type { Model } from '../model.js';
import type { MediaInput } from '../inference/encode.js';
import { videoTimeInstruction } from '../prompt/preamble.js';
import { badRequest, HttpError } from './errors.js';
import { tokenizeText } from './text.js';
import type { Entry } from './prefix.js';
import type { Message } from './request.js';
import type { PreparedMedia } from './video.js';

type Rendered = { role: string; content: string };

interface Block { embeddings: Float32Array; count: number; key: string }

function contents(messages: Message[], media: PreparedMedia[], marker: string, preamble: boolean, native: boolean): { msgs: Rendered[]; blocks: Block[][] } {
  let m = 0;
  const blocks: Block[][] = [];
  const msgs = messages.map((msg, i) => {
    let content = '';
    msg.parts.forEach((p, k) => {
      if (p.kind === 'text') {
        if (p.text.includes(marker)) throw badRequest('invalid_value', `text may not contain the model's media marker ${marker}`, `messages[${i}].content`);
        content += p.text;
        return;
      }
      const med = media[m++]!;
      if (native) content += med.extras.content?.(marker) ?? marker.repeat(med.extras.items.length);
      else {
        let j = 0;
        for (const item of med.plan!) {
          if ('embeddings' in item) {
            if (!content.endsWith(marker) || blocks.length === 0) { content += marker; blocks.push([]); }
            blocks[blocks.length - 1]!.push({ embeddings: item.embeddings, count: item.count, key: `${med.key}#${j++}` });
          } else content += item.text;
        }
      }
      if (preamble && !med.isImage && med.duration > 0) content += `\n${videoTimeInstruction(med.duration, med.frames.map((f) => f.t))}`;
      // pooled tokens are no longer one block per frame: the subtitles follow as a timed transcript
      if (!native && med.extras.transcript) content += `\n${med.extras.transcript}`;
      // LLaVA's layout: the media, a newline, then the text
      const next = msg.parts[k + 1];
      if (next?.kind === 'text' && !/^\s/.test(next.text) && !content.endsWith('\n')) content += '\n';
    });
    return { role: msg.role, content };
  });
  return { msgs, blocks };
}

/** The model's chat template, rendered on a worker thread: the event loop stays free for other requests. */
async function render(model: Model, msgs: Rendered[]): Promise<string> {
  try {
    return await model.applyTemplateAsync(msgs, { addAssistant: true });
  } catch (e) {
    throw new HttpError(400, 'invalid_value', `the model's chat template refused the messages: ${(e as Error).message}`, { param: 'messages' });
  }
}

/** The prompt of a pooled request as prefix entries: BOS, text tokens and embedding blocks. */
export async function promptEntries(model: Model, tokenizer: Context, messages: Message[], media: PreparedMedia[], preamble: boolean): Promise<Entry[]> {
  const marker = model.mediaMarker;
  const { msgs, blocks } = contents(messages, media, marker, preamble, false);
  const pieces = (await render(model, msgs)).split(marker);
  if (pieces.length !== blocks.length + 1) throw new HttpError(500, 'template_error', 'the chat template changed the media markers');
  const plan: ({ text: string } | { tokens: Int32Array } | Block)[] = [];
  const wrap = model.imageWrap;
  pieces.forEach((text, i) => {
    if (text) plan.push({ text });
    const block = blocks[i];
    if (block) plan.push({ tokens: wrap.before }, ...block, { tokens: wrap.after });
  });
  const keys = plan.filter((p): p is Block => 'embeddings' in p).map((b) => b.key);
  let k = 0;
  const entries: Entry[] = [];
  for (const item of tokenizer.toItems(await tokenizeText(model, plan), true)) {
    if ('tokens' in item) for (const t of item.tokens) entries.push(t);
    else entries.push({ key: keys[k++]!, count: item.count, embeddings: item.embeddings });
  }
  return entries;
}

/** The prompt of a native request (M-RoPE, or sound): template text with one marker per frame or audio clip, and those in order. */
export async function nativePrompt(model: Model, messages: Message[], media: PreparedMedia[]): Promise<{ text: string; frames: MediaInput[] }> {
  const { msgs } = contents(messages, media, model.mediaMarker, false, true);
  return { text: await render(model, msgs), frames: media.flatMap((m) => m.extras.items) };
}
