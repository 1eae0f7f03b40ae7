/**
 * The watch view on a live source the server's operator named: the server runs watch() on it
 * (POST /ui/api/live) and streams its items; windows are listed and drawn as they arrive on a
 * rolling timeline of the last minute or so (there is nothing to seek: the times are the watch's,
 * seconds from its first frame), events marked on it. Stopping (or leaving the page) closes the
 * stream, which stops the watch on the server.
 */
import { streamItems } from './api.js';
import { h, secs } from './dom.js';

export interface LiveSpec {
  name: string;
  every: number;
  window: number;
  /** An event to watch for, or '' to describe each window. */
  when: string;
  prompt: string;
  vidlm: Record<string, unknown>;
  maxTokens: number;
}

/** The last `span` seconds of the watch: blocks at their times, the newest at the right. */
export class RollingTimeline {
  #right = 0;
  constructor(private bar: HTMLElement, private span: number, private from: HTMLElement, private to: HTMLElement) {
    bar.replaceChildren();
    from.textContent = to.textContent = '';
  }

  add(cls: string, start: number, end: number, attrs: Record<string, string> = {}): void {
    const el = h('div', { class: cls, 'data-start': String(start), 'data-end': String(end), title: `${cls.startsWith('levent') ? 'event' : 'window'} ${secs(start)} – ${secs(end)}`, ...attrs });
    this.bar.append(el);
    this.#right = Math.max(this.#right, end);
    this.#layout();
  }

  #layout(): void {
    const left = Math.max(0, this.#right - this.span);
    const width = Math.max(this.span, this.#right - left);
    for (const el of [...this.bar.children] as HTMLElement[]) {
      const a = Number(el.dataset.start), b = Number(el.dataset.end);
      if (b < left) { el.remove(); continue; } // scrolled out of the view
      el.style.setProperty('--x', String((Math.max(a, left) - left) / width));
      el.style.setProperty('--w', String((b - Math.max(a, left)) / width));
    }
    this.from.textContent = secs(left);
    this.to.textContent = secs(left + width);
  }
}

export async function runLive(w: LiveSpec, list: HTMLElement, bar: RollingTimeline, status: HTMLElement, signal: AbortSignal): Promise<void> {
  list.replaceChildren();
  const v = w.vidlm;
  const body = {
    name: w.name, every: w.every, window: w.window, max_tokens: w.maxTokens,
    ...(w.when ? { when: w.when } : { prompt: w.prompt }),
    ...(typeof v.fps === 'number' ? { fps: v.fps } : typeof v.frames === 'number' ? { frames: v.frames } : {}),
    ...(typeof v.strategy === 'string' ? { strategy: v.strategy } : {}),
  };
  status.textContent = `connecting to ${w.name}…`;
  await streamItems('/ui/api/live', body, (x) => {
    switch (x.type) {
      case 'start':
        status.textContent = `watching ${x.name}: every ${secs(x.every)}, window ${secs(x.window)}; the first window comes once its frames have arrived`;
        break;
      case 'window': {
        const attrs: Record<string, string> = { 'data-index': String(x.index) };
        if (x.answer) attrs['data-answer'] = x.answer;
        list.append(h('li', { class: 'window live', 'data-start': String(x.windowStart), 'data-end': String(x.windowEnd), ...attrs },
          h('b', {}, `${secs(x.windowStart)} – ${secs(x.windowEnd)}`), ' ', h('span', { class: 'answer' }, x.answer ?? x.text),
          h('small', {}, ` · ${x.frames} frames (${x.encoded} encoded), ${Math.round(x.latencyMs)} ms, lag ${Math.round(x.lagMs)} ms`)));
        list.lastElementChild!.scrollIntoView({ block: 'nearest' });
        bar.add(x.answer === 'yes' ? 'lwin yes' : 'lwin', x.windowStart, x.windowEnd, attrs);
        status.textContent = `watching ${w.name}: ${x.index + 1} windows, ${x.skipped} skipped, lag ${Math.round(x.lagMs)} ms`;
        break;
      }
      case 'event':
        bar.add('levent', x.start, x.end, { 'data-window': String(x.window) });
        list.append(h('li', { class: 'event', 'data-start': String(x.start), 'data-end': String(x.end) }, h('b', {}, `event ${secs(x.start)} – ${secs(x.end)}`)));
        break;
      case 'reconnect':
        list.append(h('li', { class: 'note' }, `the source came back after ${secs(x.gap)} (${x.reason ?? 'reconnected'})`));
        break;
      case 'warning':
        list.append(h('li', { class: 'note' }, x.message));
        break;
      case 'end':
        status.textContent = `${w.name} ended`;
        break;
    }
  }, signal).catch((e: unknown) => {
    status.textContent = signal.aborted ? `stopped watching ${w.name}` : `${w.name}: stopped by an error`;
    throw e;
  });
}
