/**
 * The timeline under the player: the sampled frames as thumbnails at their real times (a strip
 * as wide as the frames need, each placed by t / duration, clicking one seeks the player), the
 * span localize returned, the events of a watch, and the player's position. Thumbnails are drawn
 * from a second, hidden <video> of the same source, so the player itself never jumps.
 */
import { $, h, secs } from './dom.js';
import type { Frame } from './api.js';

const THUMB = 72; // px, the thumbnail's width (style.css: --thumb)

export class Timeline {
  #duration = 0;
  #strip = $('strip');
  #thumbs = $('thumbs');
  #bar = $('bar');
  #head = $('playhead');
  #source = $<HTMLVideoElement>('thumbsrc');
  #drawing = 0;

  constructor(private player: HTMLVideoElement) {
    player.addEventListener('timeupdate', () => this.#place(this.#head, player.currentTime));
  }

  /** A new source: everything drawn for the last one goes. */
  reset(src: string, duration = 0): void {
    this.#duration = duration;
    this.#source.src = src;
    this.#thumbs.replaceChildren();
    for (const el of [...this.#bar.querySelectorAll('.span, .event')]) el.remove();
    this.#strip.style.setProperty('--n', '0');
  }

  set duration(d: number) { if (d > 0) this.#duration = d; }
  get duration(): number { return this.#duration; }

  #frac(t: number): number { return this.#duration > 0 ? Math.min(1, Math.max(0, t / this.#duration)) : 0; }
  #place(el: HTMLElement, t: number): void { el.style.setProperty('--x', String(this.#frac(t))); }

  /** The frames a question sampled, with the visual tokens each one cost. */
  frames(frames: Frame[], tokensPerFrame: number, exact: boolean): void {
    const id = ++this.#drawing;
    this.#strip.style.setProperty('--n', String(frames.length));
    const buttons = frames.map((f) => {
      const canvas = h('canvas', { width: String(THUMB), height: String(Math.round(THUMB * 9 / 16)), 'aria-hidden': 'true' });
      const b = h('button', { type: 'button', class: 'thumb', 'data-t': String(f.t), 'data-index': String(f.index), title: `frame ${f.index} at ${secs(f.t)}: seek there` },
        canvas, h('span', { class: 'time' }, secs(f.t)), h('span', { class: 'tok' }, `${exact ? '' : '≈'}${Math.round(tokensPerFrame)} tok`));
      b.setAttribute('aria-label', `frame ${f.index} at ${secs(f.t)}, ${Math.round(tokensPerFrame)} visual tokens`);
      this.#place(b, f.t);
      b.addEventListener('click', () => { this.player.currentTime = f.t; });
      return b;
    });
    this.#thumbs.replaceChildren(...buttons);
    void this.#draw(frames, buttons, id);
  }

  async #draw(frames: Frame[], buttons: HTMLElement[], id: number): Promise<void> {
    const v = this.#source;
    if (v.readyState < 1) await new Promise((r) => { v.addEventListener('loadedmetadata', r, { once: true }); v.addEventListener('error', r, { once: true }); });
    for (let k = 0; k < frames.length && id === this.#drawing && !v.error; k++) {
      const seeked = new Promise((r) => { v.addEventListener('seeked', r, { once: true }); v.addEventListener('error', r, { once: true }); setTimeout(r, 3000); });
      v.currentTime = frames[k]!.t;
      await seeked;
      if (id !== this.#drawing) return;
      const canvas = buttons[k]!.querySelector('canvas')!;
      const ctx = canvas.getContext('2d');
      if (ctx && v.videoWidth > 0) {
        const scale = Math.min(canvas.width / v.videoWidth, canvas.height / v.videoHeight);
        const w = v.videoWidth * scale, hh = v.videoHeight * scale;
        ctx.drawImage(v, (canvas.width - w) / 2, (canvas.height - hh) / 2, w, hh);
      }
    }
  }

  /** localize's answer: a span drawn on the bar. */
  span(start: number, end: number, label: string): void {
    for (const el of [...this.#bar.querySelectorAll('.span')]) el.remove();
    const el = h('div', { class: 'span', 'data-start': String(start), 'data-end': String(end), title: `${label}: ${secs(start)} – ${secs(end)}` });
    el.style.setProperty('--x', String(this.#frac(start)));
    el.style.setProperty('--w', String(this.#frac(end) - this.#frac(start)));
    this.#bar.append(el);
  }

  /** A watch event: the windows whose answer was yes. */
  event(start: number, end: number): void {
    const el = h('div', { class: 'event', 'data-start': String(start), 'data-end': String(end), title: `event ${secs(start)} – ${secs(end)}` });
    el.style.setProperty('--x', String(this.#frac(start)));
    el.style.setProperty('--w', String(this.#frac(end) - this.#frac(start)));
    this.#bar.append(el);
  }

  clearEvents(): void { for (const el of [...this.#bar.querySelectorAll('.event')]) el.remove(); }
}
