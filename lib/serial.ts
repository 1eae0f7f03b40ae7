/**
 * Runs asynchronous jobs one at a time, in the order they were queued. A native resource that is
 * not thread-safe (a llama_context, a model's vision encoder) gets one queue, and every call that
 * uses it goes through it; a failed job does not stop the ones behind it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => job(), () => job());
    this.#tail = result.catch(() => {});
    return result;
  }
}
