/**
 * When windows end. Window k ends at k × every seconds on the watch timeline (k ≥ 1) and covers
 * [max(0, end − window), end). A window is due once a frame at or after its end has arrived
 * (then every frame before its end is in). When answering fell behind and several are due, only
 * the latest is answered: the others are skipped, so lag never grows without bound.
 */
export interface Due {
  end: number;
  /** Windows passed over to reach this one. */
  skipped: number;
}

const EPS = 1e-6;

export class Schedule {
  readonly every: number;
  readonly window: number;
  #next: number;

  constructor(every: number, window: number) {
    this.every = every;
    this.window = window;
    this.#next = every;
  }

  /** End of the next window to answer. */
  get nextEnd(): number { return this.#next; }

  /** The window to answer now that frames up to `latest` have arrived, or null when none is due. */
  due(latest: number): Due | null {
    if (latest < this.#next - EPS) return null;
    // the latest boundary at or before `latest`
    const k = Math.floor((latest + EPS) / this.every);
    const end = Math.max(this.#next, k * this.every);
    const skipped = Math.round((end - this.#next) / this.every);
    this.#next = end + this.every;
    return { end, skipped };
  }

  /** Passes over the next window without answering it (it held no frames). */
  pass(): void { this.#next += this.every; }

  start(end: number): number { return Math.max(0, end - this.window); }
}
