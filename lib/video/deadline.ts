/**
 * A bound on one native call that FFmpeg's own per-read timeout does not give: that one moves on
 * while bytes arrive, so a live source sending garbage (or a stream no decoder can read) kept a
 * probe or a read going for ever. The call runs under the caller's signal and a timer; when the
 * timer fires first, the call is interrupted and `expired()` is true, so the caller can turn the
 * abort into a coded timeout and the caller's own abort stays an abort.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  expired(): boolean;
  /** Stops the timer and unhooks the caller's signal (call it in a finally). */
  done(): void;
}

export function deadline(ms: number, outer?: AbortSignal): Deadline {
  const ac = new AbortController();
  let fired = false;
  const timer = setTimeout(() => { fired = true; ac.abort(new Error(`no result in ${ms / 1000} s`)); }, ms);
  const onOuter = () => ac.abort(outer!.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: ac.signal,
    expired: () => fired && !outer?.aborted,
    done: () => { clearTimeout(timer); outer?.removeEventListener('abort', onOuter); },
  };
}
