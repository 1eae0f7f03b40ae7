/**
 * The watch view on a file: `vidlm watch`'s windows over the chat API. Every `every` seconds of
 * the video, the last `window` seconds are asked about (a segment of the same source, so frames
 * encoded for one window are read from the server's cache by the next); with an event question
 * the answer is held to yes/no by a JSON schema and each run of yes windows is an event on the
 * timeline. Windows are listed as their answers come.
 */
import { streamChat } from './api.js';
import { h, secs } from './dom.js';
import type { Timeline } from './timeline.js';

export interface WatchSpec {
  url: string;
  duration: number;
  every: number;
  window: number;
  /** An event to watch for (yes/no per window), or '' to describe each window. */
  when: string;
  prompt: string;
  vidlm: Record<string, unknown>;
}

/** Window ends: every `every` seconds, and the end of the video. */
export function windowEnds(duration: number, every: number): number[] {
  const ends: number[] = [];
  for (let t = every; t < duration - 1e-6; t += every) ends.push(Number(t.toFixed(3)));
  ends.push(duration);
  return ends;
}

export async function runWatch(w: WatchSpec, timeline: Timeline, list: HTMLElement, signal: AbortSignal): Promise<void> {
  list.replaceChildren();
  timeline.clearEvents();
  const events: { start: number; end: number }[] = [];
  let lastYes = false;
  let index = 0;
  for (const end of windowEnds(w.duration, w.every)) {
    signal.throwIfAborted();
    const start = Math.max(0, end - w.window);
    const text = w.when ? `Answer yes or no: ${w.when}` : w.prompt;
    const body = {
      messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: w.url } }, { type: 'text', text }] }],
      vidlm: { ...w.vidlm, segment: [start, end] },
      temperature: 0,
      max_tokens: w.when ? 16 : 96,
      ...(w.when ? { response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string', enum: ['yes', 'no'] } }, required: ['answer'], additionalProperties: false } } } } : {}),
    };
    const answer = h('span', { class: 'answer' });
    const item = h('li', { class: 'window', 'data-start': String(start), 'data-end': String(end), 'data-index': String(index++) }, h('b', {}, `${secs(start)} – ${secs(end)}`), ' ', answer);
    list.append(item);
    const t0 = performance.now();
    const r = await streamChat(body, (p) => { answer.textContent += p; }, signal);
    let yes = false;
    if (w.when) {
      try { yes = (JSON.parse(r.text) as { answer?: string }).answer === 'yes'; } catch { yes = false; }
      answer.textContent = yes ? 'yes' : 'no';
      item.dataset.answer = yes ? 'yes' : 'no';
      if (yes) {
        if (lastYes && events.length > 0) events[events.length - 1]!.end = end;
        else events.push({ start, end });
        timeline.clearEvents();
        for (const e of events) timeline.event(e.start, e.end);
      }
      lastYes = yes;
    }
    const frames = r.vidlm?.media[0]?.frames.length ?? 0;
    item.append(h('small', {}, ` · ${frames} frames, ${Math.round(performance.now() - t0)} ms`));
  }
}
