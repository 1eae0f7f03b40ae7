/**
 * A live stream's sound on the live timeline (the `t` of its frames): the runs of samples the
 * addon decoded along with the pictures (liveNext's `audio`), placed by timestamp, kept for the
 * stream's `window` seconds, and read back by span with silence where nothing came. It also
 * tells when the sound stalls while the pictures go on (no samples for `timeout` seconds).
 */

export interface LiveAudioStats {
  /** The current connection has an audio track being read. */
  track: boolean;
  /** Seconds of sound received so far. */
  seconds: number;
  /** No sound for `timeout` seconds while frames came (a stalled or dropped audio track). */
  stalled: boolean;
  /** Times the sound stalled. */
  stalls: number;
}

/** The sound of a span of the live timeline. */
export interface LiveAudioClip {
  /** Live time of samples[0] (the span's start). */
  t: number;
  /** Mono PCM at the stream's audio rate; silence where no sound came. */
  samples: Float32Array;
  /** Seconds of the span the stream's sound covered. */
  seconds: number;
}

interface Run { t: number; samples: Float32Array }

export class LiveSound {
  readonly stats: LiveAudioStats = { track: false, seconds: 0, stalled: false, stalls: 0 };
  #runs: Run[] = [];
  #lastWall = 0;

  constructor(readonly rate: number, private readonly keep: number, private readonly timeoutMs: number) {}

  /**
   * A new connection: whether it has a track. With one, a stall is counted from now; without one
   * (a stream that dropped its sound, so the reconnect's probe found none) a stall goes on.
   */
  connected(track: boolean, wall: number): void {
    this.stats.track = track;
    if (track) this.#lastWall = wall;
  }

  /** Runs decoded by one liveNext call, at live time `t`; `wall`: when the call returned. */
  add(runs: ReadonlyArray<{ t: number; samples: Float32Array }>, wall: number): void {
    for (const r of runs) {
      if (r.samples.length === 0) continue;
      this.#runs.push({ t: r.t, samples: r.samples });
      this.stats.seconds += r.samples.length / this.rate;
      this.#lastWall = wall;
      this.stats.stalled = false;
    }
    // a stream with a track, or one whose sound was heard before: nothing for `timeout` is a stall
    if ((this.stats.track || this.stats.seconds > 0) && !this.stats.stalled && wall - this.#lastWall > this.timeoutMs) {
      this.stats.stalled = true;
      this.stats.stalls++;
    }
    // runs come in time order per connection; keep the last `keep` seconds
    const end = this.#runs.reduce((m, r) => Math.max(m, r.t + r.samples.length / this.rate), -Infinity);
    while (this.#runs.length > 0) {
      const r = this.#runs[0]!;
      if (r.t + r.samples.length / this.rate >= end - this.keep) break;
      this.#runs.shift();
    }
  }

  /** The sound of [from, to) on the live timeline: what came, silence elsewhere. */
  clip(from: number, to: number): LiveAudioClip {
    const n = Math.max(0, Math.round(to * this.rate) - Math.round(from * this.rate));
    const samples = new Float32Array(n);
    const covered = new Uint8Array(n);
    for (const r of this.#runs) {
      const at = Math.round((r.t - from) * this.rate);
      const lo = Math.max(0, -at), hi = Math.min(r.samples.length, n - at);
      if (hi <= lo) continue;
      samples.set(r.samples.subarray(lo, hi), at + lo);
      covered.fill(1, at + lo, at + hi);
    }
    let k = 0;
    for (let i = 0; i < n; i++) k += covered[i]!;
    return { t: from, samples, seconds: k / this.rate };
  }
}
