/**
 * Long text kept off the event loop: a request's text is checked against what a slot can hold
 * before anything tokenizes it (B bytes of text are at least B / the vocabulary's longest token
 * piece, and a JavaScript string's length never exceeds its UTF-8 bytes); what is tokenized is
 * tokenized on the addon's worker thread (prefill.ts tokenizeText).
 */
import type { Model } from '../model.js';
import { HttpError } from './errors.js';
import type { Message } from './request.js';

const longest = new WeakMap<Model, number>();

/** Most characters of text a prompt of `contextSize` tokens can hold (twice the bound, for tokenizers that fold text). */
export function textCap(model: Model, contextSize: number): number {
  let most = longest.get(model);
  if (most === undefined) longest.set(model, (most = model.handle.maxTokenBytes()));
  return contextSize * most * 2;
}

/** 400 context_length_exceeded when the text alone cannot fit: `extra` counts text the server adds (subtitle transcripts). */
export function checkTextLength(messages: Message[], cap: number, extra = 0): void {
  let chars = 0;
  messages.forEach((m, i) => {
    for (const p of m.parts) if (p.kind === 'text') chars += p.text.length;
    if (chars > cap) {
      throw new HttpError(400, 'context_length_exceeded', `the messages hold ${chars > 1e6 ? `${(chars / 1e6).toFixed(1)} M` : chars} characters of text, more than a slot of this server can hold`, { param: `messages[${i}]` });
    }
  });
  chars += extra;
  if (chars > cap) throw new HttpError(400, 'context_length_exceeded', `the subtitles and messages hold ${chars} characters of text, more than a slot of this server can hold`, { param: 'vidlm.subtitles' });
}
