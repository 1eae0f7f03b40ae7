/**
 * A running generation: iterate it for text pieces as they come, or await it for the summary.
 * Pieces are always whole UTF-8 characters (the native side holds back partial sequences).
 */
export interface GenerateResult {
  text: string;
  stopReason: 'eos' | 'stop' | 'maxTokens' | 'contextFull' | 'aborted';
  tokens: { generated: number };
  timings: { firstTokenMs: number; generateMs: number; tokensPerSecond: number };
}

export class Generation implements AsyncIterable<string>, PromiseLike<GenerateResult> {
  readonly result: Promise<GenerateResult>;
  #pieces: string[] = [];
  #wake: (() => void) | null = null;
  #done = false;
  #streamed = '';
  #settled = false;

  /** @internal */
  constructor(start: (onPiece: (piece: string) => void) => Promise<GenerateResult>) {
    this.result = start((piece) => {
      if (this.#settled) return; // already taken from the result's text (below)
      this.#streamed += piece;
      this.#pieces.push(piece);
      this.#wake?.();
    }).then((r) => {
      // The native side's last pieces can reach JS after its promise has resolved (they travel on
      // another libuv handle, with no order between the two): take what is missing from the full
      // text, and drop those pieces when they come.
      if (r.text.startsWith(this.#streamed)) {
        if (r.text.length > this.#streamed.length) this.#pieces.push(r.text.slice(this.#streamed.length));
        this.#settled = true;
      }
      return r;
    }).finally(() => {
      this.#done = true;
      this.#wake?.();
    });
    this.result.catch(() => {}); // the error is delivered to whoever awaits or iterates
  }

  then<A = GenerateResult, B = never>(ok?: ((r: GenerateResult) => A | PromiseLike<A>) | null, err?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(ok, err);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.#pieces.length > 0) { yield this.#pieces.shift()!; continue; }
      if (this.#done) { await this.result; return; }
      await new Promise<void>((resolve) => { this.#wake = resolve; });
      this.#wake = null;
    }
  }
}
