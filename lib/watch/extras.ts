/**
 * A window's sound and subtitles. For a file, a second opened source (its own demuxer, so the
 * frame reader is never paused) reads each window's audio at the encoder's rate when it is
 * answered, cut and ordered among the window's frames as ask() does (lib/audio), and the
 * subtitle cues are read once at the start (text, small). A live stream's sound is read by
 * live() along with its pictures (the feed's audio()) and cut the same way; its subtitles are not
 * read: a warning says so, and the watch goes on without.
 */
import { cutAudioMedia, readAudioMedia, type AudioMedia, type CheckedAudio } from '../audio/media.js';
import type { LiveAudioClip } from '../video/live-audio.js';
import { loadSubtitles, type SubtitleSpec } from '../video/subtitles.js';
import type { OpenOptions, SubtitleCue, VideoInput } from '../video/types.js';
import { openVideo, type VideoSource } from '../video/video.js';

export interface ExtrasOptions {
  audio: CheckedAudio | null;
  subtitles?: SubtitleSpec;
  live: boolean;
  /** The encoder's sample rate. */
  rate: number;
  format?: OpenOptions['format'];
  ffmpegOptions?: OpenOptions['ffmpegOptions'];
  signal: AbortSignal;
  /** A live source's sound on the watch timeline (the feed's audio()). */
  liveAudio?: (from: number, to: number) => LiveAudioClip | null;
}

export interface WindowExtras {
  /** The window's audio clips and their order among its frames; null without sound. */
  audio: AudioMedia | null;
  /** Cues shown during the window, times from the window's start (a cue already showing starts at 0). */
  cues: SubtitleCue[];
  /** A live source's sound: seconds of the window it covered (less when it stalled or started late). */
  heard?: number;
}

/** The cues of [from, to) on the source's timeline, shifted to start at `from`. */
export function windowCues(cues: readonly SubtitleCue[], from: number, to: number): SubtitleCue[] {
  const out: SubtitleCue[] = [];
  for (const c of cues) {
    const end = c.end ?? c.start;
    if (c.start >= to - 1e-9 || end < from) continue;
    out.push({ ...c, start: Math.max(0, c.start - from), end: c.end === null ? null : c.end - from });
  }
  return out;
}

export class Extras {
  readonly warnings: string[] = [];
  #source: VideoSource | null = null;
  /** Where the sound ends on the source's timeline. */
  #end = Infinity;
  #cues: SubtitleCue[] = [];
  #o: ExtrasOptions;

  private constructor(o: ExtrasOptions) { this.#o = o; }

  /** Opens what the watch needs besides its frames; warnings for what it must go without. */
  static async open(input: VideoInput, o: ExtrasOptions): Promise<Extras> {
    const x = new Extras(o);
    if (o.live) {
      if (o.subtitles !== undefined) x.warnings.push("subtitles: a live stream's subtitles are not read; the windows go without");
      return x;
    }
    if (!o.audio && o.subtitles === undefined) return x;
    const source = await openVideo(input, { signal: o.signal, format: o.format, ffmpegOptions: o.ffmpegOptions, allowAudioOnly: true });
    try {
      if (o.subtitles !== undefined) {
        const subs = await loadSubtitles(source, o.subtitles, o.signal);
        x.#cues = subs.track?.cues ?? [];
        x.warnings.push(...subs.warnings);
      }
      if (o.audio && !source.probe.audio) x.warnings.push(`audio: ${source.probe.source} has no audio track; the frames alone are used`);
      if (o.audio && source.probe.audio) {
        x.#source = source;
        x.#end = Math.max(source.probe.duration, source.probe.audio.startTime + source.probe.audio.duration);
      }
    } finally {
      if (x.#source !== source) await source.close();
    }
    return x;
  }

  /** Whether windows carry sound. */
  get hearing(): boolean { return this.#source !== null; }

  /**
   * The sound and cues of the window [start, end) on the source's timeline; `frameTimes` are its
   * frames' times on the same timeline, so the clips fall between the frames taken while they played.
   */
  async window(start: number, end: number, frameTimes: number[], signal: AbortSignal): Promise<WindowExtras> {
    const cues = windowCues(this.#cues, start, end);
    if (this.#o.live) return { audio: null, cues, ...this.#liveWindow(start, end, frameTimes) };
    const to = Math.min(end, this.#end); // the last window of a file may pass its end: no empty clip
    if (!this.#source || !this.#o.audio || to <= start + 1e-6) return { audio: null, cues };
    const audio = await readAudioMedia(this.#source, this.#o.audio, frameTimes, [Math.max(0, start), to], this.#o.rate, signal);
    return { audio, cues };
  }

  /** A live window [start, end) on the watch timeline: the sound that came, placed by timestamp (silence where it stalled); none when nothing came. */
  #liveWindow(start: number, end: number, frameTimes: number[]): { audio?: AudioMedia; heard?: number } {
    const a = this.#o.audio;
    const clip = a && this.#o.liveAudio ? this.#o.liveAudio(start, end) : null;
    if (!a || !clip) return {};
    if (clip.seconds === 0) return { heard: 0 };
    return { audio: cutAudioMedia(clip, a, frameTimes, [start, end], this.#o.rate), heard: clip.seconds };
  }

  async close(): Promise<void> {
    const s = this.#source;
    this.#source = null;
    await s?.close().catch(() => undefined);
  }
}
